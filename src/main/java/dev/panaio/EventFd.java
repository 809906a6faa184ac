package dev.panaio;

import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.sys.CallScratch;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.NativeAccess;
import dev.panaio.internal.sys.Syscalls;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.ClosedChannelException;

/**
 * A Linux eventfd: a 64-bit counter the kernel adds to and a reader drains.
 *
 * <p>With {@link RequestOptions#withNotify}, every completion of a request
 * adds 1 to the counter ({@code IOCB_FLAG_RESFD}), so a thread can sleep on
 * the eventfd (or put it in its own epoll loop) and then reap the ring.
 * {@snippet :
 * try (EventFd completions = EventFd.open()) {
 *     RequestOptions signal = RequestOptions.NONE.withNotify(completions);
 *     // ... prepare requests with `signal`, submit ...
 *     long completed = completions.read(); // blocks until at least one completion
 * }
 * }
 *
 * <p>Thread-safe. {@link #read()} blocks the calling thread inside the
 * kernel; on a virtual thread that pins its carrier, so wait on platform
 * threads.
 */
public final class EventFd implements Pollable, Closeable {
    static {
        SharedSecrets.setEventFdAccess(new SharedSecrets.EventFdAccess() {
            @Override
            public FileDescriptorHandle handle(EventFd eventFd) {
                return eventFd.handle;
            }

            @Override
            public long read(EventFd eventFd, MemorySegment value, MemorySegment errno) throws IOException {
                return eventFd.readCounter(eventFd.handle.fd(), value, errno);
            }
        });
    }

    private static final int EFD_CLOEXEC = 02000000;
    private static final int EFD_NONBLOCK = 04000;

    final FileDescriptorHandle handle;
    private final boolean nonBlocking;

    private EventFd(int fd, boolean nonBlocking) {
        this.handle = new FileDescriptorHandle(fd, "EventFd " + fd);
        this.nonBlocking = nonBlocking;
    }

    /**
     * A new eventfd with counter 0, whose {@link #read()} blocks until the counter is non-zero.
     *
     * @return the open eventfd
     * @throws IOException            if eventfd2 fails
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static EventFd open() throws IOException {
        return open(false);
    }

    /**
     * A new eventfd with counter 0, whose {@link #read()} returns 0 at once when the counter is 0.
     *
     * @return the open eventfd
     * @throws IOException            if eventfd2 fails
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static EventFd openNonBlocking() throws IOException {
        return open(true);
    }

    private static EventFd open(boolean nonBlocking) throws IOException {
        NativeAccess.ensureEnabled();
        int flags = EFD_CLOEXEC | (nonBlocking ? EFD_NONBLOCK : 0);
        long fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = Syscalls.eventfd2(Syscalls.errnoCapture(arena), 0, flags);
        }
        if (fd < 0) {
            throw ErrnoExceptions.of("eventfd2", "0, 0x" + Integer.toHexString(flags), (int) -fd);
        }
        return new EventFd((int) fd, nonBlocking);
    }

    /**
     * Reads and resets the counter. Blocks while it is 0, unless the eventfd
     * is non-blocking, when it returns 0.
     *
     * @return the counter's value before the reset, as an unsigned 64-bit value (negative above 2^63 - 1;
     *         see {@link Long#toUnsignedString(long)})
     * @throws ClosedChannelException if the eventfd is closed
     */
    public long read() throws IOException {
        int fd = acquire();
        try {
            CallScratch scratch = CallScratch.get(); // a thread's own, so a read allocates nothing
            return readCounter(fd, scratch.counter, scratch.errno);
        } finally {
            handle.release();
        }
    }

    /**
     * Adds {@code increment} to the counter, waking readers.
     *
     * @param increment the amount to add
     * @throws IllegalArgumentException if increment is not between 1 and 2^64 - 2 (as a signed long: positive)
     * @throws ClosedChannelException   if the eventfd is closed
     * @throws IOException              if write(2) fails, such as EAGAIN when a non-blocking counter would overflow
     */
    public void write(long increment) throws IOException {
        if (increment <= 0) {
            throw new IllegalArgumentException("eventfd increment must be positive: " + increment);
        }
        int fd = acquire();
        try {
            // The thread's own scratch, not an arena per call: an engine's submitter wakes its thread so, once
            // per request when the engine sleeps between them.
            CallScratch scratch = CallScratch.get();
            scratch.counter.set(ValueLayout.JAVA_LONG, 0, increment);
            long ret;
            do {
                ret = Syscalls.write(scratch.errno, fd, scratch.counter, Long.BYTES);
            } while (ret == -ErrnoExceptions.EINTR);
            if (ret < 0) {
                throw ErrnoExceptions.of("write", "eventfd " + fd + ", " + increment, (int) -ret);
            }
        } finally {
            handle.release();
        }
    }

    /**
     * Reads and resets the counter into {@code value}, with {@code errno} as
     * the capture segment: the engine's read passes its own, so that it
     * allocates nothing. The caller keeps the descriptor open meanwhile.
     */
    private long readCounter(int fd, MemorySegment value, MemorySegment errno) throws IOException {
        long ret;
        do { // a loop, not restartOnEintr: its lambda would be a new object per read
            ret = Syscalls.read(errno, fd, value, Long.BYTES);
        } while (ret == -ErrnoExceptions.EINTR);
        if (ret == Long.BYTES) {
            return value.get(ValueLayout.JAVA_LONG, 0);
        }
        if (ret == -ErrnoExceptions.EAGAIN && nonBlocking) {
            return 0;
        }
        throw ErrnoExceptions.of("read", "eventfd " + fd, (int) -ret);
    }

    /**
     * Whether the eventfd is open.
     *
     * @return false once closed
     */
    public boolean isOpen() {
        return handle.isOpen();
    }

    /** Closes the eventfd. Idempotent. */
    @Override
    public void close() throws IOException {
        int errno = handle.close();
        if (errno != 0) {
            throw ErrnoExceptions.of("close", handle.toString(), errno);
        }
    }

    private int acquire() throws ClosedChannelException {
        try {
            return handle.acquire();
        } catch (IllegalStateException closed) {
            throw new ClosedChannelException();
        }
    }

    @Override
    public String toString() {
        return handle + (isOpen() ? "" : " (closed)");
    }
}
