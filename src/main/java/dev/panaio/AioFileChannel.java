package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;

import dev.panaio.internal.channel.ChannelChecks;
import dev.panaio.internal.channel.ChannelCleaner;
import dev.panaio.internal.channel.ChannelLocks;
import dev.panaio.internal.channel.ChannelMapping;
import dev.panaio.internal.channel.ChannelOptions;
import dev.panaio.internal.channel.ChannelTransfers;
import dev.panaio.internal.channel.DescriptorCalls;
import dev.panaio.internal.channel.FileIo;
import dev.panaio.internal.channel.InlineTransfers;
import dev.panaio.internal.channel.PanaioFileLock;
import dev.panaio.internal.channel.WaitingTransfers;
import dev.panaio.internal.sys.NativeAccess;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.channels.NonWritableChannelException;
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
 * The calling thread parks until its request completes; a virtual thread
 * unmounts meanwhile. With {@link ExtendedOpenOption#DIRECT}, requests go to
 * an {@link AioEngine} as kernel AIO, and positions and lengths must be
 * multiples of {@link #alignment()} ({@link MisalignedIoException}
 * otherwise); without it, a platform thread makes its own {@code pread} or
 * {@code pwrite}, as {@code FileChannel} does, and a virtual thread's read is
 * answered by the page cache at once when it holds the data, else by a pool
 * thread.
 *
 * <h2>Buffers, the descriptor, interrupts</h2>
 * <ul>
 *   <li>The kernel never writes into memory that can be freed before the
 *       call returns: {@link AioArena} memory and direct buffers are used in
 *       place; memory of another arena may be copied through panaio's memory
 *       (one copy of the request's size). A scattering read or gathering
 *       write is one request over at most 1024 buffers, as the JDK takes
 *       them.</li>
 *   <li>The channel owns exactly one file descriptor, opened with every
 *       option {@link FileChannel#open} accepts; position, size, truncate,
 *       force, transfers, {@link #map} and locks (Linux open file description
 *       locks) all work on it. An unreachable channel's locks and descriptor
 *       are released by a {@link java.lang.ref.Cleaner}, as the JDK's.</li>
 *   <li>As with the JDK's channels, an interrupt of a thread blocked in any
 *       call closes the channel ({@link ClosedByInterruptException}; a lock,
 *       {@link FileLockInterruptionException}), and a close from another
 *       thread gives {@link AsynchronousCloseException}. A read or write
 *       returns only once the kernel has finished with its buffer.</li>
 * </ul>
 *
 * <p>{@code close()} waits, as the JDK's does and not interruptibly, for the
 * channel's calls already in the kernel, which keep their results; a call
 * whose request still waits in the engine's queue throws
 * {@code AsynchronousCloseException}.
 *
 * <h2>Differences from the JDK</h2>
 * More permissive: the direct I/O alignment is {@code statx(STATX_DIOALIGN)}'s,
 * heap or misaligned buffers are bounced, and a transfer on a direct channel
 * works at any position and count. Restricted: {@code open} takes a path of
 * the default filesystem only. {@code close()} does not wait on an engine
 * thread, nor for a virtual thread's page-cache copy on its own thread.
 *
 * <p>The full reference (buffer lifetimes, vectored requests, the options and
 * locks of the one descriptor, interrupts and close, each difference from the
 * JDK) is in the <a href="package-summary.html#file-channel">package
 * documentation</a>.
 *
 * <p>Thread-safe, as {@code FileChannel} is.
 */
public final class AioFileChannel extends FileChannel {
    private final FileIo io;
    private final AioFile file;
    private final boolean readable;
    private final boolean writable;
    private final boolean append;
    private final ChannelLocks locks;
    private final ChannelTransfers transfers;
    private final WaitingTransfers waiting;
    private final ChannelCleaner.CloseDescriptor closeAction;
    private final Cleaner.Cleanable cleanable;
    /** Serialises the relative reads and writes, which read and move the position. */
    private final ReentrantLock positionLock = new ReentrantLock();
    /** The file position, kept in Java: the kernel's offset of the descriptor is never used. */
    private long position;

    private AioFileChannel(FileIo io, boolean append) {
        this.io = io;
        this.file = io.file();
        this.readable = file.isReadable();
        this.writable = file.isWritable();
        this.append = append;
        this.locks = new ChannelLocks(file);
        this.waiting = new WaitingTransfers(io);
        this.transfers = new ChannelTransfers(this, file, this::transfer,
                other -> other instanceof AioFileChannel aio ? aio.file : null);
        this.closeAction = ChannelCleaner.closing(file, locks);
        this.cleanable = ChannelCleaner.register(this, closeAction);
    }

    /**
     * Opens a file as {@link FileChannel#open(Path, OpenOption...)} does,
     * on the {@linkplain AioEngine#shared() shared engine}.
     *
     * @param path    the file to open
     * @param options the JDK's options, plus {@link ExtendedOpenOption#DIRECT} and
     *                {@link PanaioOpenOption#STRICT_ALIGNMENT}
     * @return the open channel
     * @throws IOException            if the file cannot be opened
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioFileChannel open(Path path, OpenOption... options) throws IOException {
        Objects.requireNonNull(options, "options");
        NativeAccess.ensureEnabled(); // before anything that links native code
        return open(path, new HashSet<>(Arrays.asList(options)), AioEngine.shared());
    }

    /**
     * Opens a file as {@link FileChannel#open(Path, Set, FileAttribute[])}
     * does, on the {@linkplain AioEngine#shared() shared engine}. It hides
     * that static method, so that {@code AioFileChannel.open(path, options)}
     * never quietly returns a JDK channel.
     *
     * @param path    the file to open
     * @param options the JDK's options, plus {@link ExtendedOpenOption#DIRECT} and
     *                {@link PanaioOpenOption#STRICT_ALIGNMENT}
     * @param attrs   file attributes to set when the file is created: {@code posix:permissions} only, as the JDK
     * @return the open channel
     * @throws IOException            if the file cannot be opened
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
     * @param path    the file to open
     * @param options the JDK's options, plus {@link ExtendedOpenOption#DIRECT} and
     *                {@link PanaioOpenOption#STRICT_ALIGNMENT}
     * @param engine  the engine that submits the channel's requests
     * @return the open channel
     * @throws IOException            if the file cannot be opened
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
        ChannelOptions parsed = ChannelOptions.parse(options, attrs);
        return new AioFileChannel(FileIo.open(path, parsed, engine), parsed.append());
    }

    /**
     * The direct I/O alignment of the file (meaningful when opened with DIRECT).
     *
     * @return the alignment statx reports for the file
     * @throws IOException if it cannot be read
     */
    public DirectAlignment alignment() throws IOException {
        return file.alignment();
    }

    /**
     * Whether the channel was opened for direct I/O.
     *
     * @return true for direct I/O
     */
    public boolean isDirect() {
        return file.isDirect();
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
            int n = (int) transfer(dst, position, true);
            if (n > 0) {
                position += n;
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
            if (append) {
                // The kernel writes at the end of the file whatever the offset (O_APPEND); position() is the size.
                return (int) transfer(src, 0, false);
            }
            int n = (int) transfer(src, position, false);
            if (n > 0) {
                position += n;
            }
            return n;
        } finally {
            positionLock.unlock();
        }
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        ensureOpen();
        ChannelChecks.checkReadable(readable, dsts, offset, length);
        positionLock.lock(); // the whole scattering read moves the position once, as FileChannel's does
        try {
            long n = transfer(null, dsts, offset, length, position, true);
            if (n > 0) {
                position += n;
            }
            return n;
        } finally {
            positionLock.unlock();
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ensureOpen();
        checkWritable();
        ChannelChecks.checkGathering(srcs, offset, length);
        positionLock.lock();
        try {
            if (append) {
                return transfer(null, srcs, offset, length, 0, false); // O_APPEND: the kernel writes at the end
            }
            long n = transfer(null, srcs, offset, length, position, false);
            if (n > 0) {
                position += n;
            }
            return n;
        } finally {
            positionLock.unlock();
        }
    }

    /**
     * One positional read or write through {@link FileIo}, with the JDK's
     * interrupt and close semantics. A page-cache hit is answered on this
     * thread with no per-call object ({@link InlineTransfers#readInline}); anything
     * else waits for its completion.
     */
    private long transfer(ByteBuffer buffer, long position, boolean read) throws IOException {
        return transfer(buffer, null, 0, 0, position, read);
    }

    /**
     * {@code buffer}, or when it is null {@code buffers[offset .. offset + length)}, as one transfer. After an
     * interrupt ended the wait for room in the engine the channel is closed and this thread always gets
     * {@link ClosedByInterruptException} ({@link WaitingTransfers#closeByInterrupt} says why).
     */
    private long transfer(ByteBuffer buffer, ByteBuffer[] buffers, int offset, int length, long position,
                          boolean read) throws IOException {
        ensureOpen();
        io.checkNotOnEngineThread();
        boolean completed = false;
        InterruptedIOException interrupted = null;
        long n = 0;
        begin();
        try {
            n = buffer != null ? waiting.transfer(buffer, position, read)
                    : waiting.transferVector(buffers, offset, length, position, read);
            completed = true;
        } catch (InterruptedIOException e) {
            interrupted = e;
        } finally {
            if (interrupted == null) {
                end(completed);
            } else { // the channel closes, and this thread gets ClosedByInterruptException whatever the order
                WaitingTransfers.closeByInterrupt(interrupted, () -> end(false), this);
            }
        }
        return n;
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
            throw new ClosedChannelException();
        }
    }

    /**
     * Runs a call on the descriptor as the JDK runs a blocking one: an
     * interrupt closes the channel and gives {@link ClosedByInterruptException},
     * a close by another thread {@link AsynchronousCloseException}, and a
     * close waits for a call already running.
     */
    private <T> T blocking(DescriptorCalls.Call<T> call) throws IOException {
        ensureOpen();
        boolean completed = false;
        begin();
        try {
            // Counted in after begin(), which closes the channel for a thread already interrupted.
            if (!io.enterKernelCall()) {
                throw new AsynchronousCloseException();
            }
            try {
                T result = call.call();
                completed = true;
                return result;
            } finally {
                io.leaveKernelCall();
            }
        } finally {
            end(completed);
        }
    }

    /** In append mode, the size of the file, as the JDK. */
    @Override
    public long position() throws IOException {
        ensureOpen();
        positionLock.lock();
        try {
            return append ? blocking(file::size) : blocking(() -> position);
        } finally {
            positionLock.unlock();
        }
    }

    @Override
    public AioFileChannel position(long newPosition) throws IOException {
        ensureOpen();
        if (newPosition < 0) {
            throw new IllegalArgumentException();
        }
        positionLock.lock(); // not in the middle of a relative read or write
        try {
            blocking(() -> position = newPosition);
            return this;
        } finally {
            positionLock.unlock();
        }
    }

    @Override
    public long size() throws IOException {
        return blocking(file::size);
    }

    /** As the JDK: never extends the file, and moves the position down to {@code size} when it was beyond. */
    @Override
    public AioFileChannel truncate(long size) throws IOException {
        ensureOpen();
        if (size < 0) {
            throw new IllegalArgumentException("Negative size");
        }
        if (!writable) {
            throw new NonWritableChannelException();
        }
        positionLock.lock();
        try {
            blocking(() -> {
                if (size < file.size()) {
                    file.truncate(size);
                }
                if (position > size) {
                    position = size;
                }
                return null;
            });
            return this;
        } finally {
            positionLock.unlock();
        }
    }

    /** {@code fsync} with metadata, else {@code fdatasync}. */
    @Override
    public void force(boolean metaData) throws IOException {
        blocking(() -> {
            DescriptorCalls.force(file, metaData);
            return null;
        });
    }

    /**
     * Allocates blocks for a range of the file, panaio's own: as
     * {@link AioFile#preallocate}, interruptible as the channel's other
     * blocking calls.
     *
     * @param position the first byte of the range
     * @param length   bytes in the range, at least 1
     * @param keepSize whether the file's size stays as it is; if not, a range past the end extends the file
     * @throws NonWritableChannelException       if the channel was not opened for writing
     * @throws FileOperationUnsupportedException if the filesystem cannot preallocate, naming it
     */
    public void preallocate(long position, long length, boolean keepSize) throws IOException {
        checkWritable();
        blocking(() -> {
            file.preallocate(position, length, keepSize);
            return null;
        });
    }

    /**
     * Deallocates a range of the file, which then reads as zeros, panaio's
     * own: as {@link AioFile#punchHole}.
     *
     * @param position the first byte of the range
     * @param length   bytes in the range, at least 1
     * @throws NonWritableChannelException       if the channel was not opened for writing
     * @throws FileOperationUnsupportedException if the filesystem cannot punch holes, naming it
     */
    public void punchHole(long position, long length) throws IOException {
        checkWritable();
        blocking(() -> {
            file.punchHole(position, length);
            return null;
        });
    }

    /**
     * Advice on how a range will be read, panaio's own: as {@link AioFile#advise}.
     *
     * @param position the first byte of the range
     * @param length   bytes in the range, or 0 for everything from position to the end of the file
     * @param advice   how the range will be used
     * @throws IOException as {@link AioFile#advise}, and {@link java.nio.channels.ClosedChannelException} if the
     *                     channel is closed
     */
    public void advise(long position, long length, Advice advice) throws IOException {
        blocking(() -> {
            file.advise(position, length, advice);
            return null;
        });
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return transfers.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        return transfers.transferFrom(src, position, count);
    }

    /**
     * Maps the file as the JDK does, through a transient JDK channel opened
     * on {@code /proc/self/fd/<fd>}: the same file, even when it was renamed
     * or deleted. That channel is closed at once; the mapping outlives it.
     */
    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Size exceeds Integer.MAX_VALUE");
        }
        checkMap(mode, position, size);
        return ChannelMapping.throughProc(file, writable, channel -> channel.map(mode, position, size));
    }

    /** As {@link #map(MapMode, long, long)}, into a segment of {@code arena}. */
    @Override
    public MemorySegment map(MapMode mode, long offset, long size, Arena arena) throws IOException {
        Objects.requireNonNull(arena, "Arena is null");
        checkMap(mode, offset, size);
        return ChannelMapping.throughProc(file, writable, channel -> channel.map(mode, offset, size, arena));
    }

    private void checkMap(MapMode mode, long position, long size) throws IOException {
        Objects.requireNonNull(mode, "Mode is null");
        ensureOpen();
        ChannelMapping.check(mode, position, size, readable, writable);
    }

    /**
     * Takes an open file description lock ({@code F_OFD_SETLK}), retrying
     * until it is free. An interrupt closes the channel and gives
     * {@link FileLockInterruptionException}, a close by another thread
     * {@link AsynchronousCloseException}, as the JDK.
     */
    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        ensureOpen();
        ChannelLocks.check(shared, readable, writable);
        PanaioFileLock lock = locks.newLock(this, position, size, shared);
        locks.reserve(lock);
        boolean completed = false;
        begin();
        try {
            completed = locks.lockReserved(lock, this::isOpen) && isOpen();
        } finally {
            try {
                end(completed);
            } catch (ClosedByInterruptException e) {
                throw new FileLockInterruptionException();
            }
        }
        return lock;
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        ensureOpen();
        ChannelLocks.check(shared, readable, writable);
        PanaioFileLock lock = locks.newLock(this, position, size, shared);
        return locks.tryLock(lock) ? lock : null;
    }

    @Override
    protected void implCloseChannel() throws IOException {
        // As the JDK's close: wait for the calls already in the kernel (not for those still queued, which fail),
        // then close the descriptor, which releases this channel's locks.
        io.closeAndAwaitKernel();
        cleanable.clean();
        IOException failure = closeAction.failure();
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "AioFileChannel[" + file.path() + (isDirect() ? ", direct" : "") + (isOpen() ? "" : ", closed") + "]";
    }
}
