package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;

import dev.panaio.internal.channel.ChannelChecks;
import dev.panaio.internal.channel.ChannelCompletion;
import dev.panaio.internal.channel.ChannelOptions;
import dev.panaio.internal.channel.DelegatedFileLock;
import dev.panaio.internal.channel.FileIo;
import dev.panaio.internal.sys.NativeAccess;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A drop-in {@link FileChannel} whose reads and writes never make the calling
 * thread wait for a disk: direct files go through kernel AIO, buffered reads
 * through the page cache or a small pool (see below).
 * {@snippet :
 * // was: FileChannel.open(path, READ, ExtendedOpenOption.DIRECT)
 * try (FileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
 *     ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096);
 *     channel.read(block, 0);
 * }
 * }
 *
 * <h2>Reads and writes</h2>
 * The calling thread parks until its request completes. A virtual thread
 * unmounts meanwhile: no carrier thread is pinned or compensated, so
 * thousands of virtual threads can each have a read in flight.
 * <ul>
 *   <li>With {@link ExtendedOpenOption#DIRECT}, requests go to an
 *       {@link AioEngine} as kernel AIO. File positions and lengths must be
 *       multiples of the file's {@link #alignment()}
 *       ({@link MisalignedIoException} otherwise, an {@code IOException} as
 *       the JDK's, thrown before the kernel sees the request). A buffer on
 *       the heap or at a misaligned address is copied through an aligned
 *       bounce buffer, at the cost of one memory copy of the request's size;
 *       open with {@link PanaioOpenOption#STRICT_ALIGNMENT} to reject such
 *       buffers instead.</li>
 *   <li>Without it, a read first tries {@code preadv2(RWF_NOWAIT)}, which the
 *       page cache answers at once when it holds the data; otherwise a pool
 *       thread reads. A write completes in the page cache on the calling
 *       thread; with DSYNC or SYNC, on a pool thread.</li>
 * </ul>
 * Scattering and gathering reads and writes handle their buffers one after
 * another. Everything else (position, size, truncate, force, transfers,
 * mapping, locks) is a plain JDK {@code FileChannel} on the same file, and
 * follows its contract.
 *
 * <h2>Deliberately more permissive than the JDK</h2>
 * Two differences make code that fails on the JDK's channel work, and never
 * make working code fail: the alignment is the filesystem's own
 * ({@code statx(STATX_DIOALIGN)}, often 512 or smaller where the JDK asks
 * for the device's logical block size), and heap or misaligned buffers are
 * bounced where the JDK refuses them.
 *
 * <h2>Interrupts and close</h2>
 * As with the JDK's channels, interrupting a thread blocked in a read or
 * write closes the channel, and the call throws
 * {@link java.nio.channels.ClosedByInterruptException}; closing the channel
 * from another thread makes it throw
 * {@link java.nio.channels.AsynchronousCloseException}. One difference: the
 * call returns only once the kernel has finished with the buffer, because a
 * file read in flight cannot be cancelled (Linux cancels only polls). That
 * wait is bounded by the device's latency.
 *
 * <p>Thread-safe, as {@code FileChannel} is.
 */
public final class AioFileChannel extends FileChannel {
    private final FileChannel delegate;
    private final FileIo io;
    private final boolean readable;
    private final boolean writable;
    private final boolean append;
    /** Serialises the relative reads and writes, which read and move the position. */
    private final ReentrantLock positionLock = new ReentrantLock();

    private AioFileChannel(FileChannel delegate, FileIo io, boolean readable, boolean writable, boolean append) {
        this.delegate = delegate;
        this.io = io;
        this.readable = readable;
        this.writable = writable;
        this.append = append;
    }

    /**
     * Opens a file as {@link FileChannel#open(Path, OpenOption...)} does,
     * on the {@linkplain AioEngine#shared() shared engine}.
     *
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioFileChannel open(Path path, OpenOption... options) throws IOException {
        NativeAccess.ensureEnabled(); // before anything that links native code
        return open(path, new HashSet<>(Arrays.asList(options)), AioEngine.shared());
    }

    /**
     * Opens a file as {@link FileChannel#open(Path, Set, FileAttribute[])}
     * does, on the {@linkplain AioEngine#shared() shared engine}. It hides
     * that static method, so that {@code AioFileChannel.open(path, options)}
     * never quietly returns a JDK channel.
     *
     * @param attrs file attributes to set when the file is created
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioFileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        NativeAccess.ensureEnabled(); // before anything that links native code
        return open(path, options, AioEngine.shared(), attrs);
    }

    /**
     * Opens a file on the given engine.
     *
     * @param options the JDK's options, plus {@link ExtendedOpenOption#DIRECT} and
     *                {@link PanaioOpenOption#STRICT_ALIGNMENT}
     * @throws DirectIoUnsupportedException if DIRECT was asked for on a filesystem without it, naming the filesystem
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioFileChannel open(Path path, Set<? extends OpenOption> options, AioEngine engine)
            throws IOException {
        NativeAccess.ensureEnabled(); // before anything that links native code
        return open(path, options, engine, new FileAttribute<?>[0]);
    }

    private static AioFileChannel open(Path path, Set<? extends OpenOption> options, AioEngine engine,
                                       FileAttribute<?>[] attrs) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(engine, "engine");
        ChannelOptions parsed = ChannelOptions.parse(options);
        FileChannel delegate = FileChannel.open(path, parsed.jdkOptions(), attrs); // creates the file if asked
        try {
            FileIo io = FileIo.open(path, parsed, engine);
            return new AioFileChannel(delegate, io, io.file().isReadable(), io.file().isWritable(), parsed.append());
        } catch (IOException | RuntimeException e) {
            delegate.close();
            throw e;
        }
    }

    /** The direct I/O alignment of the file (meaningful when opened with DIRECT). */
    public DirectAlignment alignment() throws IOException {
        return io.file().alignment();
    }

    /** Whether the channel was opened for direct I/O. */
    public boolean isDirect() {
        return io.file().isDirect();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        Objects.requireNonNull(dst, "dst");
        ChannelChecks.checkPosition(position);
        checkReadable(dst);
        return (int) transfer(dst, position, true);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        Objects.requireNonNull(src, "src");
        ChannelChecks.checkPosition(position);
        checkWritable();
        return (int) transfer(src, position, false);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        checkReadable(dst);
        positionLock.lock();
        try {
            long position = delegate.position();
            int n = (int) transfer(dst, position, true);
            if (n > 0) {
                delegate.position(position + n);
            }
            return n;
        } finally {
            positionLock.unlock();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        checkWritable();
        positionLock.lock();
        try {
            // In append mode the kernel writes at end of file whatever the position (O_APPEND).
            long position = append ? delegate.size() : delegate.position();
            int n = (int) transfer(src, position, false);
            if (n > 0 && !append) {
                delegate.position(position + n);
            }
            return n;
        } finally {
            positionLock.unlock();
        }
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        positionLock.lock(); // the whole scattering read moves the position once, as FileChannel's does
        try {
            return readSequentially(dsts, offset, length);
        } finally {
            positionLock.unlock();
        }
    }

    private long readSequentially(ByteBuffer[] dsts, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            ByteBuffer dst = dsts[i];
            if (!dst.hasRemaining()) {
                continue;
            }
            int wanted = dst.remaining();
            int n = read(dst);
            if (n < 0) {
                return total == 0 ? -1 : total;
            }
            total += n;
            if (n < wanted) {
                break;
            }
        }
        return total;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        positionLock.lock();
        try {
            return writeSequentially(srcs, offset, length);
        } finally {
            positionLock.unlock();
        }
    }

    private long writeSequentially(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            ByteBuffer src = srcs[i];
            int wanted = src.remaining();
            total += write(src);
            if (src.remaining() > 0 && wanted > 0) {
                break;
            }
        }
        return total;
    }

    /** One positional read or write through {@link FileIo}, with the JDK's interrupt and close semantics. */
    private long transfer(ByteBuffer buffer, long position, boolean read) throws IOException {
        ensureOpen();
        if (io.onEngineThread()) {
            throw new IllegalStateException("a blocking AioFileChannel call on an AioEngine thread (in a completion "
                    + "callback) would wait for that thread itself: use AioAsynchronousFileChannel or the engine's "
                    + "futures there, or move the call to another executor");
        }
        var op = new ChannelCompletion.ToWaiter();
        boolean completed = false;
        begin();
        try {
            if (read) {
                io.read(buffer, position, op);
            } else {
                io.write(buffer, position, op);
            }
            long n = op.await();
            completed = true;
            return n;
        } finally {
            end(completed);
        }
    }

    private void checkReadable(ByteBuffer dst) throws IOException {
        ensureOpen();
        ChannelChecks.checkReadable(readable, dst);
    }

    private void checkWritable() throws IOException {
        ensureOpen();
        ChannelChecks.checkWritable(writable);
    }

    private void ensureOpen() throws IOException {
        if (!isOpen()) {
            throw new java.nio.channels.ClosedChannelException();
        }
    }

    /** A call to the JDK delegate, which does its own blocking I/O. */
    @FunctionalInterface
    private interface DelegatedCall<T> {
        T call() throws IOException;
    }

    /**
     * Runs a delegated call. An interrupt or a concurrent close closes the
     * delegate (the JDK's contract); this channel must then close as well,
     * or it would be left half open.
     */
    private <T> T delegated(DelegatedCall<T> call) throws IOException {
        ensureOpen();
        try {
            return call.call();
        } catch (java.nio.channels.AsynchronousCloseException e) {
            try {
                close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override
    public long position() throws IOException {
        return delegated(delegate::position);
    }

    @Override
    public AioFileChannel position(long newPosition) throws IOException {
        positionLock.lock(); // not in the middle of a relative read or write
        try {
            delegated(() -> delegate.position(newPosition));
            return this;
        } finally {
            positionLock.unlock();
        }
    }

    @Override
    public long size() throws IOException {
        return delegated(delegate::size);
    }

    @Override
    public AioFileChannel truncate(long size) throws IOException {
        positionLock.lock();
        try {
            delegated(() -> delegate.truncate(size));
            return this;
        } finally {
            positionLock.unlock();
        }
    }

    @Override
    public void force(boolean metaData) throws IOException {
        delegated(() -> {
            delegate.force(metaData);
            return null;
        });
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return delegated(() -> delegate.transferTo(position, count, target));
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        return delegated(() -> delegate.transferFrom(src, position, count));
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return delegated(() -> delegate.map(mode, position, size));
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return delegated(() -> new DelegatedFileLock(this, delegate.lock(position, size, shared)));
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return delegated(() -> {
            FileLock lock = delegate.tryLock(position, size, shared);
            return lock == null ? null : new DelegatedFileLock(this, lock);
        });
    }

    @Override
    protected void implCloseChannel() throws IOException {
        // Requests in flight keep their own reference to the file in the kernel; the descriptor closes
        // when the last one is submitted.
        try {
            delegate.close();
        } finally {
            io.file().close();
        }
    }

    @Override
    public String toString() {
        return "AioFileChannel[" + io.file().path() + (isDirect() ? ", direct" : "") + (isOpen() ? "" : ", closed")
                + "]";
    }
}
