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
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileLock;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * A drop-in {@link AsynchronousFileChannel} on kernel AIO.
 *
 * <p>The JDK's own implementation on Linux is a thread pool doing blocking
 * reads: one thread per outstanding request. This one keeps requests in the
 * kernel instead: thousands can be in flight from a few threads.
 * {@snippet :
 * // was: AsynchronousFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)
 * try (AioAsynchronousFileChannel channel =
 *          AioAsynchronousFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
 *     ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096);
 *     CompletableFuture<Integer> read = channel.readAsync(block, 0);
 * }
 * }
 *
 * <p>Reads and writes are routed as in {@link AioFileChannel}: kernel AIO for
 * direct files (with bounce buffers for heap or misaligned buffers, unless
 * {@link PanaioOpenOption#STRICT_ALIGNMENT}), {@code preadv2(RWF_NOWAIT)} then
 * a pool for buffered reads, the page cache for buffered writes. Size,
 * truncate, force and locks are the JDK's {@code AsynchronousFileChannel}
 * on the same file. Misaligned direct I/O fails the future (or calls the
 * handler's {@code failed}) with {@link MisalignedIoException}, an
 * {@code IOException}, as the JDK's channel reports it; nothing reaches the
 * kernel. Two differences are deliberate, and more permissive than the JDK:
 * the alignment is the filesystem's own ({@code statx(STATX_DIOALIGN)},
 * often smaller than the device's logical block size the JDK asks for), and
 * heap or misaligned buffers are bounced where the JDK refuses them. Code
 * that works on the JDK's channel works here; some that fails there works.
 *
 * <h2>Where handlers run</h2>
 * Completion handlers and futures complete on the thread that finished the
 * request: an engine thread for kernel AIO, a delivery thread for buffered
 * reads that missed the page cache (served by the pool), or the calling
 * thread itself when the page cache answered at once (never the blocking
 * pool, which a handler's blocking read may need). Give an executor to
 * {@link #open(Path, Set, ExecutorService, AioEngine)} to run
 * CompletionHandlers there instead. A handler that throws does not disturb
 * the engine; the exception goes to the thread's uncaught exception handler.
 *
 * <h2>Cancellation and close</h2>
 * {@code Future.cancel} cannot stop a file read in flight (Linux cancels only
 * polls): the kernel keeps writing into the buffer until the request
 * completes, and the buffer must be left alone until then. Closing the
 * channel fails requests still queued in the engine with
 * {@link java.nio.channels.AsynchronousCloseException}; those already in the
 * kernel complete.
 *
 * <p>Thread-safe.
 */
public final class AioAsynchronousFileChannel extends AsynchronousFileChannel {
    private final AsynchronousFileChannel delegate;
    private final FileIo io;
    private final ExecutorService handlerExecutor;
    private final boolean readable;
    private final boolean writable;

    private AioAsynchronousFileChannel(AsynchronousFileChannel delegate, FileIo io, ExecutorService handlerExecutor,
                                       boolean readable, boolean writable) {
        this.delegate = delegate;
        this.io = io;
        this.handlerExecutor = handlerExecutor;
        this.readable = readable;
        this.writable = writable;
    }

    /**
     * Opens a file as {@link AsynchronousFileChannel#open(Path, OpenOption...)} does,
     * on the {@linkplain AioEngine#shared() shared engine}.
     *
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioAsynchronousFileChannel open(Path path, OpenOption... options) throws IOException {
        NativeAccess.ensureEnabled(); // before anything that links native code
        return open(path, new HashSet<>(Arrays.asList(options)), null, AioEngine.shared());
    }

    /**
     * Opens a file as {@link AsynchronousFileChannel#open(Path, Set, ExecutorService, FileAttribute[])}
     * does, on the {@linkplain AioEngine#shared() shared engine}. It hides
     * that static method, so that this class's {@code open} never quietly
     * returns a JDK channel.
     *
     * @param executor where CompletionHandlers run, or null to run them where the request completes
     * @param attrs    file attributes to set when the file is created
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioAsynchronousFileChannel open(Path path, Set<? extends OpenOption> options,
                                                  ExecutorService executor, FileAttribute<?>... attrs)
            throws IOException {
        NativeAccess.ensureEnabled(); // before anything that links native code
        return open(path, options, executor, AioEngine.shared(), attrs);
    }

    /**
     * Opens a file on the given engine.
     *
     * @param executor where CompletionHandlers run, or null to run them where the request completes
     * @throws DirectIoUnsupportedException if DIRECT was asked for on a filesystem without it, naming the filesystem
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioAsynchronousFileChannel open(Path path, Set<? extends OpenOption> options,
                                                  ExecutorService executor, AioEngine engine) throws IOException {
        NativeAccess.ensureEnabled(); // before anything that links native code
        return open(path, options, executor, engine, new FileAttribute<?>[0]);
    }

    private static AioAsynchronousFileChannel open(Path path, Set<? extends OpenOption> options,
                                                   ExecutorService executor, AioEngine engine,
                                                   FileAttribute<?>[] attrs) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(engine, "engine");
        ChannelOptions parsed = ChannelOptions.parse(options);
        AsynchronousFileChannel delegate = AsynchronousFileChannel.open(path, parsed.jdkOptions(), null, attrs);
        try {
            FileIo io = FileIo.open(path, parsed, engine);
            return new AioAsynchronousFileChannel(delegate, io, executor, io.file().isReadable(),
                    io.file().isWritable());
        } catch (IOException | RuntimeException e) {
            delegate.close();
            throw e;
        }
    }

    /** The direct I/O alignment of the file (meaningful when opened with DIRECT). */
    public DirectAlignment alignment() throws IOException {
        return io.file().alignment();
    }

    /** Whether the channel was opened with {@link ExtendedOpenOption#DIRECT}. */
    public boolean isDirect() {
        return io.file().isDirect();
    }

    @Override
    public <A> void read(ByteBuffer dst, long position, A attachment,
                         CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(handler, "handler");
        checkRead(dst, position);
        var op = new ChannelCompletion.ToHandler<>(handler, attachment, handlerExecutor);
        if (!isOpen()) {
            op.fail(new ClosedChannelException());
            return;
        }
        io.read(dst, position, op);
    }

    @Override
    public Future<Integer> read(ByteBuffer dst, long position) {
        return readAsync(dst, position);
    }

    /** As {@link #read(ByteBuffer, long)}, returning a CompletableFuture. */
    public CompletableFuture<Integer> readAsync(ByteBuffer dst, long position) {
        checkRead(dst, position);
        var op = new ChannelCompletion.ToFuture();
        if (!isOpen()) {
            op.fail(new ClosedChannelException());
        } else {
            io.read(dst, position, op);
        }
        return op.future();
    }

    @Override
    public <A> void write(ByteBuffer src, long position, A attachment,
                          CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(handler, "handler");
        checkWrite(src, position);
        var op = new ChannelCompletion.ToHandler<>(handler, attachment, handlerExecutor);
        if (!isOpen()) {
            op.fail(new ClosedChannelException());
            return;
        }
        io.write(src, position, op);
    }

    @Override
    public Future<Integer> write(ByteBuffer src, long position) {
        return writeAsync(src, position);
    }

    /** As {@link #write(ByteBuffer, long)}, returning a CompletableFuture. */
    public CompletableFuture<Integer> writeAsync(ByteBuffer src, long position) {
        checkWrite(src, position);
        var op = new ChannelCompletion.ToFuture();
        if (!isOpen()) {
            op.fail(new ClosedChannelException());
        } else {
            io.write(src, position, op);
        }
        return op.future();
    }

    private void checkRead(ByteBuffer dst, long position) {
        Objects.requireNonNull(dst, "dst");
        ChannelChecks.checkPosition(position);
        ChannelChecks.checkReadable(readable, dst);
    }

    private void checkWrite(ByteBuffer src, long position) {
        Objects.requireNonNull(src, "src");
        ChannelChecks.checkPosition(position);
        ChannelChecks.checkWritable(writable);
    }

    @Override
    public long size() throws IOException {
        try {
            return delegate.size();
        } catch (java.nio.channels.AsynchronousCloseException e) {
            throw closeAfter(e);
        }
    }

    @Override
    public AioAsynchronousFileChannel truncate(long size) throws IOException {
        try {
            delegate.truncate(size);
        } catch (java.nio.channels.AsynchronousCloseException e) {
            throw closeAfter(e);
        }
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        try {
            delegate.force(metaData);
        } catch (java.nio.channels.AsynchronousCloseException e) {
            throw closeAfter(e);
        }
    }

    /** An interrupt closed the delegate: close this channel too rather than leave it half open. */
    private IOException closeAfter(java.nio.channels.AsynchronousCloseException e) {
        try {
            close();
        } catch (IOException suppressed) {
            e.addSuppressed(suppressed);
        }
        return e;
    }

    @Override
    public <A> void lock(long position, long size, boolean shared, A attachment,
                         CompletionHandler<FileLock, ? super A> handler) {
        Objects.requireNonNull(handler, "handler");
        delegate.lock(position, size, shared, attachment, new CompletionHandler<FileLock, A>() {
            @Override
            public void completed(FileLock lock, A a) {
                handler.completed(new DelegatedFileLock(AioAsynchronousFileChannel.this, lock), a);
            }

            @Override
            public void failed(Throwable error, A a) {
                handler.failed(error, a);
            }
        });
    }

    @Override
    public Future<FileLock> lock(long position, long size, boolean shared) {
        CompletableFuture<FileLock> future = new CompletableFuture<>();
        lock(position, size, shared, null, new CompletionHandler<FileLock, Void>() {
            @Override
            public void completed(FileLock lock, Void attachment) {
                future.complete(lock);
            }

            @Override
            public void failed(Throwable error, Void attachment) {
                future.completeExceptionally(error);
            }
        });
        return future;
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        FileLock lock = delegate.tryLock(position, size, shared);
        return lock == null ? null : new DelegatedFileLock(this, lock);
    }

    @Override
    public boolean isOpen() {
        return delegate.isOpen();
    }

    @Override
    public void close() throws IOException {
        try {
            delegate.close();
        } finally {
            io.file().close();
        }
    }

    @Override
    public String toString() {
        return "AioAsynchronousFileChannel[" + io.file().path() + (isDirect() ? ", direct" : "")
                + (isOpen() ? "" : ", closed") + "]";
    }
}
