package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A channel's file locks: Linux open file description locks
 * ({@code fcntl(F_OFD_SETLK)}) on its one descriptor, checked against the
 * JVM-wide {@link FileLockTable} first, as the JDK does.
 *
 * <p>OFD locks belong to the descriptor, not to the process: closing another
 * descriptor of the file (a JDK channel, say) never drops them, and they
 * conflict with locks held through any other descriptor, also in this
 * process. They go away when the channel's descriptor closes.
 *
 * <p>This object never refers to its channel, so that the channel's cleaner
 * can release the locks of a channel dropped without close.
 *
 * <p>Thread-safe.
 */
public final class ChannelLocks {
    /** The longest pause between two attempts of a blocking lock. */
    private static final long MAX_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final AioFile file;
    private final Set<FileLockTable.Entry> held = ConcurrentHashMap.newKeySet();
    private volatile DescriptorCalls.FileKey key;
    private volatile boolean closed;

    public ChannelLocks(AioFile file) {
        this.file = file;
    }

    /** The JDK's checks of a lock request, in its order. */
    public static void check(boolean shared, boolean readable, boolean writable) {
        if (shared && !readable) {
            throw new NonReadableChannelException();
        }
        if (!shared && !writable) {
            throw new NonWritableChannelException();
        }
    }

    /** As the JDK: a size of 0 means from the position to the end of the file, whatever it grows to. */
    public static long normalizedSize(long position, long size) {
        return size == 0 ? Long.MAX_VALUE - Math.max(0, position) : size;
    }

    /** A lock object of a FileChannel, not yet taken; its constructor checks the range as the JDK's. */
    public PanaioFileLock newLock(FileChannel channel, long position, long size, boolean shared) {
        return new PanaioFileLock(channel, this, position, normalizedSize(position, size), shared);
    }

    /** A lock object of an AsynchronousFileChannel, not yet taken. */
    public PanaioFileLock newLock(AsynchronousFileChannel channel, long position, long size, boolean shared) {
        return new PanaioFileLock(channel, this, position, normalizedSize(position, size), shared);
    }

    /**
     * Records the lock in the JVM's table, before the kernel is asked, as
     * the JDK does: a second, overlapping request in this JVM fails at once
     * even while the first one waits.
     *
     * @throws java.nio.channels.OverlappingFileLockException if a lock held or wanted in this JVM overlaps it
     */
    public void reserve(PanaioFileLock lock) throws IOException {
        FileLockTable.add(key(), lock.entry);
    }

    /** Forgets a reserved lock that was not taken. */
    public void unreserve(PanaioFileLock lock) {
        FileLockTable.remove(key, lock.entry);
    }

    /**
     * One request to the kernel for a reserved lock.
     *
     * @return whether the lock is now held
     */
    public boolean attempt(PanaioFileLock lock) throws IOException {
        boolean taken = DescriptorCalls.setLock(file, lock.isShared() ? aio_abi_h.F_RDLCK() : aio_abi_h.F_WRLCK(),
                lock.position(), lock.size());
        if (taken) {
            held.add(lock.entry);
            if (closed) { // the channel closed meanwhile: its descriptor took the kernel's lock with it
                forget(lock.entry);
            }
        }
        return taken;
    }

    /**
     * One attempt, as {@code tryLock}.
     *
     * @return whether the lock is now held
     */
    public boolean tryLock(PanaioFileLock lock) throws IOException {
        reserve(lock);
        boolean taken = false;
        try {
            taken = attempt(lock);
            return taken;
        } finally {
            if (!taken) {
                unreserve(lock);
            }
        }
    }

    /**
     * Attempts until the lock is held or {@code keepTrying} says stop
     * (the channel closed, or its thread was interrupted); parks a little
     * longer after each failed attempt, up to 10 ms. The lock must be
     * {@linkplain #reserve reserved}; it is unreserved unless taken.
     *
     * @return whether the lock is now held
     */
    public boolean lockReserved(PanaioFileLock lock, BooleanSupplier keepTrying) throws IOException {
        boolean taken = false;
        try {
            long pause = TimeUnit.MICROSECONDS.toNanos(100);
            while (keepTrying.getAsBoolean()) {
                if (attempt(lock)) {
                    taken = true;
                    return true;
                }
                LockSupport.parkNanos(this, pause);
                pause = Math.min(pause * 2, MAX_RETRY_NANOS);
            }
            return false;
        } finally {
            if (!taken) {
                unreserve(lock);
            }
        }
    }

    /** Releases one lock: {@code F_UNLCK} on its range, then the table's entry. */
    void release(PanaioFileLock lock) throws IOException {
        FileLockTable.Entry entry = lock.entry;
        if (!held.contains(entry)) {
            return;
        }
        DescriptorCalls.setLock(file, aio_abi_h.F_UNLCK(), lock.position(), lock.size());
        forget(entry);
    }

    /**
     * Forgets every lock: the channel is closing, and closing its descriptor
     * releases them in the kernel. Idempotent.
     */
    public void closeAll() {
        closed = true;
        for (FileLockTable.Entry entry : held) {
            forget(entry);
        }
    }

    private void forget(FileLockTable.Entry entry) {
        if (held.remove(entry)) {
            entry.released = true;
            FileLockTable.remove(key, entry);
        }
    }

    private DescriptorCalls.FileKey key() throws IOException {
        DescriptorCalls.FileKey known = key;
        if (known == null) {
            known = key = DescriptorCalls.key(file);
        }
        return known;
    }
}
