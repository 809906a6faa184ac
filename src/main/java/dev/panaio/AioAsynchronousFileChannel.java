package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;

import dev.panaio.internal.channel.AnsweredHandler;
import dev.panaio.internal.channel.ChannelChecks;
import dev.panaio.internal.channel.ChannelCompletion;
import dev.panaio.internal.channel.ChannelCleaner;
import dev.panaio.internal.channel.ChannelLocks;
import dev.panaio.internal.channel.ChannelOptions;
import dev.panaio.internal.channel.DefaultHandlerExecutor;
import dev.panaio.internal.channel.DescriptorCalls;
import dev.panaio.internal.channel.FileIo;
import dev.panaio.internal.channel.InlineTransfers;
import dev.panaio.internal.channel.PanaioFileLock;
import dev.panaio.internal.engine.UncaughtExceptions;
import dev.panaio.internal.sys.NativeAccess;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

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
 * <p>The channel owns one file descriptor, opened once by panaio with every
 * option the JDK accepts. Reads and writes are routed as in
 * {@link AioFileChannel} routes a virtual thread's: kernel AIO for direct files (with bounce buffers for
 * heap or misaligned buffers, unless {@link PanaioOpenOption#STRICT_ALIGNMENT}),
 * {@code preadv2(RWF_NOWAIT)} then a pool for buffered reads, a per-file queue
 * on the pool for buffered writes (after one {@code pwritev2(RWF_NOWAIT)} on
 * the caller's thread where the filesystem takes it, as XFS does and ext4
 * does not, while none of the file's writes is queued). Size ({@code statx}), truncate ({@code ftruncate}),
 * force ({@code fsync} / {@code fdatasync}) and locks work on the same
 * descriptor.
 *
 * <p>Misaligned direct I/O fails the future (or calls the handler's
 * {@code failed}) with {@link MisalignedIoException}, an {@code IOException},
 * as the JDK's channel reports it; nothing reaches the kernel. Two differences
 * are deliberate, and more permissive than the JDK: the alignment is the
 * filesystem's own ({@code statx(STATX_DIOALIGN)}, often smaller than the
 * device's logical block size the JDK asks for), and heap or misaligned
 * buffers are bounced where the JDK refuses them. Code that works on the JDK's
 * channel works here; some that fails there works.
 *
 * <p>Buffers follow {@link AioFileChannel}'s rules: {@link AioArena} and
 * {@code ByteBuffer.allocateDirect} memory is used in place, any other
 * arena's is copied whenever the kernel may use it after the call returns; a
 * read whose arena is closed while it is in flight fails with
 * {@link IllegalStateException} ("the buffer's arena was closed while the read
 * was in flight"). A buffer confined to a thread is refused with
 * {@link IllegalArgumentException} ("Buffer is thread confined"), since the
 * read or write completes on another thread.
 *
 * <h2>Where handlers run</h2>
 * As with the JDK, a CompletionHandler never runs on the thread that started
 * the operation: it runs on the executor given to {@link #open(Path, Set,
 * ExecutorService, FileAttribute[])}, else on panaio's default executor, a
 * process-wide cached pool of daemon threads (as the JDK's default thread
 * pool). A handler that throws does not disturb the channel; the exception
 * goes to the thread's uncaught exception handler. A caller's executor is
 * handed a read's or write's handler when the request completes; if it
 * refuses it (shut down) or throws, the handler runs once on one of panaio's
 * delivery threads, and a failure other than the refusal is reported as
 * uncaught. The JDK's channel hands its executor the whole operation when it
 * starts, so there {@code read} and {@code write} throw
 * {@code RejectedExecutionException} instead: more permissive here. A
 * {@code lock} throws it as the JDK's does.
 *
 * <p>One case saves a thread hand-off, as the {@code AsynchronousFileChannel}
 * specification allows: when a handler running on the default executor starts
 * a read (or write) that the page cache answers at once, its handler runs on
 * the same thread as soon as the starting handler returns, never inside it. A
 * handler reading a cached file block after block thus stays on one thread,
 * where the JDK's channel wakes another pool thread for every block. The pool
 * stays what the JDK's default pool gives: a handler that waits for the
 * handler of a read it started still gets it (it is handed to another pool
 * thread within a few milliseconds once the waiting handler waits in Java;
 * once it sleeps in a system call or has computed for 20 ms, after a few
 * milliseconds up to about as long again as it had already run; within a
 * second in any case). A caller's own executor is not affected.
 * <ul>
 *   <li>{@link PanaioOpenOption#INLINE_COMPLETION} (panaio's own opt-in) runs
 *       read and write handlers where the request completes instead: an
 *       engine thread for kernel AIO, a pool thread for a buffered read that
 *       missed the page cache (a delivery thread, never the blocking pool, which a
 *       handler's blocking read may need), or the calling thread itself, before the call
 *       returns, when the page cache answered at once. It saves a thread
 *       hand-off per request; such handlers must not block.</li>
 *   <li>Futures ({@link #read(ByteBuffer, long)}, {@link #readAsync}) are
 *       {@link CompletableFuture}s, completed where the request completes;
 *       their dependent stages run there too, unless given an executor
 *       ({@code thenApplyAsync(fn, executor)}).</li>
 *   <li>The handler of {@link #lock(long, long, boolean, Object, CompletionHandler) lock}
 *       runs on the channel's executor (the default one with INLINE_COMPLETION),
 *       which also waits for the lock.</li>
 * </ul>
 *
 * <h2>Locks</h2>
 * Locks are Linux open file description locks ({@code fcntl(F_OFD_SETLK)})
 * on the channel's descriptor, and a JVM-wide table throws
 * {@link java.nio.channels.OverlappingFileLockException} for a lock that
 * overlaps one held through any panaio channel in this JVM, as the JDK does
 * for its own channels. Unlike the JDK's POSIX record locks, they are not
 * dropped when another descriptor of the file in this process closes, and a
 * JDK channel in the same JVM sees them as another process's locks (its
 * {@code tryLock} returns null rather than throwing
 * OverlappingFileLockException). Closing the channel releases them.
 *
 * <h2>Cancellation and close</h2>
 * {@code Future.cancel} cannot stop a file read in flight (Linux cancels only
 * polls): the kernel keeps writing into the buffer until the request
 * completes, and the buffer must be left alone until then. A read or write
 * pending when the channel closes either completes or fails with
 * {@link AsynchronousCloseException}; one started after the close fails with
 * {@link ClosedChannelException}. A channel dropped without {@code close()}
 * stays open while any of its reads and writes is outstanding (each request
 * keeps its channel reachable, as the JDK's pool tasks do), and then has its
 * descriptor closed by a {@link java.lang.ref.Cleaner}. One difference: the
 * JDK's asynchronous channel registers no Cleaner, so a dropped one keeps its
 * descriptor open until the JVM exits.
 *
 * <p>{@code close()} waits, as the JDK's does (its close takes a lock that
 * every running {@code pread} or {@code pwrite} holds), for the channel's
 * requests already in the kernel: a direct read or write that the engine has
 * passed to {@code io_submit}, a read or write running on the engine's
 * blocking pool, a {@code force}, {@code size} or {@code truncate}. They
 * complete with their results; their handlers may run before or after
 * {@code close()} returns, as the JDK's, and a handler that closes its own
 * channel waits only for the channel's other requests. The wait is not
 * interruptible (nor is the JDK's). A request still waiting in the engine's
 * queue for room in the kernel is not waited for: it fails with
 * {@link AsynchronousCloseException}. Two differences: {@code close()} on an
 * engine thread (an {@link PanaioOpenOption#INLINE_COMPLETION} handler, a
 * future's dependent stage) does not wait, since the completion it would wait
 * for may be that thread's own to deliver (the JDK has no such thread: its
 * handlers run on pool threads); and it does not wait for a page-cache read
 * or write running on the calling thread. Every request still gets its
 * result.
 *
 * <p>Thread-safe.
 */
public final class AioAsynchronousFileChannel extends AsynchronousFileChannel {
    private final FileIo io;
    private final AioFile file;
    /** Where read and write handlers run: null to run them where the request completes (INLINE_COMPLETION). */
    private final Executor handlerExecutor;
    /** Where lock requests wait and their handlers run. */
    private final Executor lockExecutor;
    private final boolean readable;
    private final boolean writable;
    private final ChannelLocks locks;
    private final ChannelCleaner.CloseDescriptor closeAction;
    private final Cleaner.Cleanable cleanable;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AioAsynchronousFileChannel(FileIo io, ExecutorService executor, boolean inline) {
        this.io = io;
        this.file = io.file();
        this.lockExecutor = executor != null ? executor : DefaultHandlerExecutor.get();
        this.handlerExecutor = inline ? null : lockExecutor;
        this.readable = file.isReadable();
        this.writable = file.isWritable();
        this.locks = new ChannelLocks(file);
        this.closeAction = ChannelCleaner.closing(file, locks);
        this.cleanable = ChannelCleaner.register(this, closeAction);
    }

    /**
     * Opens a file as {@link AsynchronousFileChannel#open(Path, OpenOption...)} does,
     * on the {@linkplain AioEngine#shared() shared engine}; handlers run on the default executor.
     *
     * @param path    the file to open
     * @param options open options, as the JDK's, plus {@link ExtendedOpenOption#DIRECT}
     * @return the open channel
     * @throws IOException            if the file cannot be opened
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioAsynchronousFileChannel open(Path path, OpenOption... options) throws IOException {
        Objects.requireNonNull(options, "options");
        NativeAccess.ensureEnabled(); // before anything that links native code
        return open(path, new HashSet<>(Arrays.asList(options)), null, AioEngine.shared());
    }

    /**
     * Opens a file as {@link AsynchronousFileChannel#open(Path, Set, ExecutorService, FileAttribute[])}
     * does, on the {@linkplain AioEngine#shared() shared engine}. It hides
     * that static method, so that this class's {@code open} never quietly
     * returns a JDK channel.
     *
     * @param path     the file to open
     * @param options  open options, as the JDK's, plus {@link ExtendedOpenOption#DIRECT}
     * @param executor where CompletionHandlers run, or null for the default executor
     * @param attrs    file attributes to set when the file is created: {@code posix:permissions} only, as the JDK
     * @return the open channel
     * @throws IOException            if the file cannot be opened
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
     * @param path     the file to open
     * @param options  open options, as the JDK's, plus {@link ExtendedOpenOption#DIRECT}
     * @param executor where CompletionHandlers run, or null for the default executor
     * @param engine   the engine that submits the channel's requests
     * @return the open channel
     * @throws IOException            if the file cannot be opened
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
        ChannelOptions parsed = ChannelOptions.parse(options, attrs);
        if (parsed.append()) {
            throw new UnsupportedOperationException("APPEND not allowed"); // as the JDK's: a position is always given
        }
        return new AioAsynchronousFileChannel(FileIo.open(path, parsed, engine), executor,
                parsed.inlineCompletion());
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
     * Whether the channel was opened with {@link ExtendedOpenOption#DIRECT}.
     *
     * @return true for direct I/O
     */
    public boolean isDirect() {
        return file.isDirect();
    }

    @Override
    public <A> void read(ByteBuffer dst, long position, A attachment,
                         CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(handler, "handler");
        checkRead(dst, position);
        boolean open = isOpen();
        long n = InlineTransfers.NOT_INLINE;
        if (open && handlerExecutor == DefaultHandlerExecutor.get()) {
            // Only a default-pool handler, whose delivery runs no caller code here. An INLINE_COMPLETION handler,
            // or one on a caller's executor that may run it in place, takes the general path, whose Trampoline
            // keeps a chain of them from recursing.
            try {
                n = io.inline().readAtOnce(dst, position); // a page-cache hit: no request, no completion
            } catch (IOException e) {
                AnsweredHandler.failed(handler, attachment, e);
                return;
            }
            if (n >= -1) {
                AnsweredHandler.completed(handler, attachment, n);
                return;
            }
        }
        // Even with INLINE_COMPLETION, the failure of a call on a closed channel never runs on the caller's thread.
        var op = new ChannelCompletion.ToHandler<>(handler, attachment, open ? handlerExecutor : lockExecutor);
        if (!open) {
            op.fail(new ClosedChannelException());
            return;
        }
        op.madeBy(this); // a dropped channel stays open until its requests complete, as the JDK's does
        if (n == InlineTransfers.MISSED) {
            io.readMissed(dst, position, op);
        } else {
            io.read(dst, position, op);
        }
    }

    @Override
    public Future<Integer> read(ByteBuffer dst, long position) {
        return readAsync(dst, position);
    }

    /**
     * Reads from the file at {@code position} into {@code dst}, as
     * {@link #read(ByteBuffer, long)} does, returning a CompletableFuture.
     *
     * @param dst      the buffer to fill from its position; its position advances by the bytes read
     * @param position the file offset to read from
     * @return a future completed with the bytes read, or -1 at or past end of file
     * @throws IllegalArgumentException    if position is negative or dst is read-only
     * @throws java.nio.channels.NonReadableChannelException if the channel was not opened for reading
     */
    public CompletableFuture<Integer> readAsync(ByteBuffer dst, long position) {
        checkRead(dst, position);
        if (!isOpen()) {
            return CompletableFuture.failedFuture(new ClosedChannelException());
        }
        long n;
        try {
            n = io.inline().readAtOnce(dst, position); // a page-cache hit, with no request object
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (n >= -1) {
            return CompletableFuture.completedFuture((int) n);
        }
        var op = new ChannelCompletion.ToFuture();
        op.madeBy(this);
        if (n == InlineTransfers.MISSED) {
            io.readMissed(dst, position, op);
        } else {
            io.read(dst, position, op);
        }
        return op.future();
    }

    /**
     * As {@link #readAsync(ByteBuffer, long)}, with per-request rw flags and
     * an I/O priority: panaio's own, so that code written against the JDK never
     * sees it. On a direct file they reach the kernel in the request's iocb; on
     * a buffered one the flags are preadv2's (with {@link RwFlag#NOWAIT} the
     * read fails with EAGAIN, rather than wait, when the page cache lacks the
     * data) and the priority does not apply.
     *
     * @param dst      the buffer the bytes are read into, from its position; its position advances by the count
     * @param position the file offset to read from
     * @param options  rw flags and priority for this request
     * @return a future of the number of bytes read, or -1 at or past the end of the file
     * @throws IllegalArgumentException as {@link #read(ByteBuffer, long)}, and if the options carry an eventfd
     *                                  ({@link RequestOptions#withNotify}): the engine signals its own
     */
    public CompletableFuture<Integer> readAsync(ByteBuffer dst, long position, RequestOptions options) {
        AioEngine.checkEngineOptions(options);
        checkRead(dst, position);
        var op = new ChannelCompletion.ToFuture();
        if (!isOpen()) {
            op.fail(new ClosedChannelException());
        } else {
            op.madeBy(this);
            io.read(dst, position, options, op);
        }
        return op.future();
    }

    @Override
    public <A> void write(ByteBuffer src, long position, A attachment,
                          CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(handler, "handler");
        checkWrite(src, position);
        boolean open = isOpen(); // one read: a close after it must not leave the failure with a null executor
        // Even with INLINE_COMPLETION, the failure of a call on a closed channel never runs on the caller's thread.
        var op = new ChannelCompletion.ToHandler<>(handler, attachment, open ? handlerExecutor : lockExecutor);
        if (!open) {
            op.fail(new ClosedChannelException());
            return;
        }
        op.madeBy(this);
        io.write(src, position, op);
    }

    @Override
    public Future<Integer> write(ByteBuffer src, long position) {
        return writeAsync(src, position);
    }

    /**
     * Writes the remaining bytes of {@code src} to the file at {@code position},
     * as {@link #write(ByteBuffer, long)} does, returning a CompletableFuture.
     *
     * @param src      the buffer to write from its position; its position advances by the bytes written
     * @param position the file offset to write at
     * @return a future completed with the bytes written
     * @throws IllegalArgumentException    if position is negative
     * @throws NonWritableChannelException if the channel was not opened for writing
     */
    public CompletableFuture<Integer> writeAsync(ByteBuffer src, long position) {
        checkWrite(src, position);
        var op = new ChannelCompletion.ToFuture();
        if (!isOpen()) {
            op.fail(new ClosedChannelException());
        } else {
            op.madeBy(this);
            io.write(src, position, op);
        }
        return op.future();
    }

    /**
     * As {@link #writeAsync(ByteBuffer, long)}, with per-request rw flags and
     * an I/O priority, panaio's own. On a direct file they reach the kernel in
     * the request's iocb; on a buffered one {@link RwFlag#DSYNC} and
     * {@link RwFlag#SYNC} become pwritev2's RWF_DSYNC and RWF_SYNC (the write
     * then runs on the engine's blocking pool, as it waits for the disk). A
     * durable append without a separate {@code force}:
     * {@snippet :
     * static final RequestOptions DURABLE = RequestOptions.NONE.withFlags(RwFlag.DSYNC);
     *
     * channel.writeAsync(record, offset, DURABLE)
     *        .thenRun(() -> acknowledge(record)); // on stable storage by now
     * }
     *
     * @param src      the buffer whose remaining bytes are written; its position advances by the count
     * @param position the file offset to write at
     * @param options  rw flags and priority for this request
     * @return a future of the number of bytes written
     * @throws IllegalArgumentException as {@link #write(ByteBuffer, long)}, and if the options carry an eventfd
     */
    public CompletableFuture<Integer> writeAsync(ByteBuffer src, long position, RequestOptions options) {
        AioEngine.checkEngineOptions(options);
        checkWrite(src, position);
        var op = new ChannelCompletion.ToFuture();
        if (!isOpen()) {
            op.fail(new ClosedChannelException());
        } else {
            op.madeBy(this);
            io.write(src, position, options, op);
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

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    /**
     * A call on the descriptor, which close() waits for: a close by another
     * thread meanwhile gives AsynchronousCloseException.
     */
    @FunctionalInterface
    private interface DescriptorCall<T> {
        T call() throws IOException;
    }

    private <T> T onDescriptor(DescriptorCall<T> call) throws IOException {
        ensureOpen();
        if (!io.enterKernelCall()) { // closed since: close() waits only for calls counted in before it began
            throw new AsynchronousCloseException();
        }
        try {
            return call.call();
        } catch (ClosedChannelException e) {
            throw isOpen() ? e : new AsynchronousCloseException();
        } finally {
            io.leaveKernelCall();
        }
    }

    @Override
    public long size() throws IOException {
        return onDescriptor(file::size);
    }

    /** As the JDK: never extends the file. */
    @Override
    public AioAsynchronousFileChannel truncate(long size) throws IOException {
        if (size < 0) {
            throw new IllegalArgumentException("Negative size");
        }
        if (!writable) {
            throw new NonWritableChannelException();
        }
        onDescriptor(() -> {
            if (size < file.size()) {
                file.truncate(size);
            }
            return null;
        });
        return this;
    }

    /** {@code fsync} with metadata, else {@code fdatasync}. */
    @Override
    public void force(boolean metaData) throws IOException {
        onDescriptor(() -> {
            DescriptorCalls.force(file, metaData);
            return null;
        });
    }

    /**
     * Takes an open file description lock; the request waits, and the
     * handler runs, on the channel's executor.
     *
     * @throws java.nio.channels.OverlappingFileLockException at once, if a lock held or wanted through a panaio
     *                                                        channel in this JVM overlaps it
     */
    @Override
    public <A> void lock(long position, long size, boolean shared, A attachment,
                         CompletionHandler<FileLock, ? super A> handler) {
        Objects.requireNonNull(handler, "'handler' is null");
        ChannelLocks.check(shared, readable, writable);
        if (!isOpen()) { // before the arguments, as the JDK
            lockExecutor.execute(() -> failLock(handler, attachment, new ClosedChannelException()));
            return;
        }
        PanaioFileLock lock = locks.newLock(this, position, size, shared);
        try {
            locks.reserve(lock);
        } catch (IOException e) { // the file's identity could not be learned: a closed channel
            lockExecutor.execute(() -> failLock(handler, attachment,
                    isOpen() ? e : new AsynchronousCloseException()));
            return;
        }
        boolean started = false;
        try {
            lockExecutor.execute(() -> waitForLock(lock, attachment, handler));
            started = true;
        } finally {
            if (!started) {
                locks.unreserve(lock);
            }
        }
    }

    private <A> void waitForLock(PanaioFileLock lock, A attachment, CompletionHandler<FileLock, ? super A> handler) {
        Throwable error = null;
        try {
            if (!locks.lockReserved(lock, this::isOpen) || !isOpen()) {
                error = new AsynchronousCloseException();
            }
        } catch (IOException e) {
            error = isOpen() ? e : new AsynchronousCloseException();
        }
        if (error != null) {
            failLock(handler, attachment, error);
            return;
        }
        try {
            handler.completed(lock, attachment);
        } catch (Throwable t) {
            UncaughtExceptions.report(t);
        }
    }

    private static <A> void failLock(CompletionHandler<FileLock, ? super A> handler, A attachment, Throwable error) {
        try {
            handler.failed(error, attachment);
        } catch (Throwable t) {
            UncaughtExceptions.report(t);
        }
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
        ChannelLocks.check(shared, readable, writable);
        if (!isOpen()) { // before the arguments, as the JDK
            throw new ClosedChannelException();
        }
        PanaioFileLock lock = locks.newLock(this, position, size, shared);
        return onDescriptor(() -> locks.tryLock(lock) ? lock : null);
    }

    @Override
    public boolean isOpen() {
        return !closed.get();
    }

    /**
     * Closes the channel: waits for its requests already in the kernel (not on
     * an engine thread), then releases its locks and closes its descriptor.
     * Requests still queued fail with {@link AsynchronousCloseException}.
     */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        io.closeAndAwaitKernel();
        cleanable.clean();
        IOException failure = closeAction.failure();
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "AioAsynchronousFileChannel[" + file.path() + (isDirect() ? ", direct" : "")
                + (isOpen() ? "" : ", closed") + "]";
    }
}
