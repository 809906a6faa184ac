package dev.panaio.internal.channel;

import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;
import dev.panaio.MisalignedIoException;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.context.RequestChecks;
import dev.panaio.internal.engine.AlignedBufferPool;
import dev.panaio.internal.engine.DeliveryThreads;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The positional reads and writes behind panaio's channels: where each one
 * goes, so that the calling thread never waits for a disk.
 *
 * <ul>
 *   <li><b>Direct files</b> ({@code O_DIRECT}): through the engine's kernel
 *       AIO. Positions and lengths must be aligned; a heap or misaligned
 *       buffer is copied through an aligned bounce buffer (one memcpy of the
 *       request's size), or rejected in strict mode.</li>
 *   <li><b>Buffered reads</b>: first {@code preadv2(RWF_NOWAIT)} on the
 *       calling thread, which the page cache answers at once when it holds the
 *       data; when it does not (EAGAIN), or the filesystem has no NOWAIT
 *       (EOPNOTSUPP, tmpfs), the read goes to the engine's small pool of
 *       blocking threads. AIO would not help here: buffered AIO reads run
 *       synchronously inside io_submit.</li>
 *   <li><b>Buffered writes</b> complete in the page cache on the calling
 *       thread with {@code pwritev2}; writes to a file opened with DSYNC or
 *       SYNC wait for the disk, so they go to the blocking pool. (Even a page
 *       cache write can stall when the kernel throttles a process that dirties
 *       pages faster than the disk takes them.)</li>
 * </ul>
 * Each request's sink is finished exactly once: on the calling thread, an engine
 * thread or a pool thread.
 *
 * <p>Thread-safe.
 */
public final class FileIo {
    private static final SharedSecrets.EngineAccess ENGINES = SharedSecrets.engineAccess();

    private final AioEngine engine;
    private final AioFile file;
    private final FileDescriptorHandle handle;
    private final DirectAlignment alignment;
    private final boolean strict;
    private final boolean syncWrites;
    private volatile boolean nowaitUnsupported;
    /** The engine's blocking pool, looked up only when a task is handed to it: it is made on first use. */
    private final Executor pool;

    private FileIo(AioEngine engine, AioFile file, boolean strict, boolean syncWrites) throws IOException {
        this.engine = engine;
        this.file = file;
        this.handle = SharedSecrets.fileAccess().handle(file);
        this.alignment = file.isDirect() ? file.alignment() : null;
        this.strict = strict;
        this.syncWrites = syncWrites;
        this.pool = task -> ENGINES.blockingPool(engine).execute(task);
    }

    /** Opens the channel's own descriptor of {@code path} for AIO, with the channel's options. */
    public static FileIo open(Path path, ChannelOptions options, AioEngine engine) throws IOException {
        AioFile file = AioFile.open(path, options.aioOptions());
        try {
            return new FileIo(engine, file, options.strict(), options.syncWrites());
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The channel's own AioFile. */
    public AioFile file() {
        return file;
    }

    /** Whether the calling thread is one of the engine's threads, where a blocking call would wait for itself. */
    public boolean onEngineThread() {
        return ENGINES.isEngineThread(engine);
    }

    /**
     * Per thread: native scratch for {@link #transfer} (one iovec, one errno
     * capture), so that a page-cache hit allocates no native memory. It is
     * GC-managed: a thread's is freed when the thread is gone.
     */
    private static final class Scratch {
        final MemorySegment iov;
        final MemorySegment errno;

        Scratch() {
            Arena arena = Arena.ofAuto();
            iov = iovec.allocate(arena);
            errno = Syscalls.errnoCapture(arena);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /** A thread that is never started: a confined segment is not accessible by it. */
    private static final Thread OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    /**
     * Checks a caller's buffer before anything uses its address: a direct
     * buffer whose arena is closed would send the kernel into freed memory.
     */
    private static void checkBuffer(MemorySegment segment, ChannelCompletion op, boolean needsCopyElsewhere) {
        if (segment == null) {
            return; // heap memory
        }
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("the buffer's arena is already closed");
        }
        if (needsCopyElsewhere && !op.settlesOnCaller() && !segment.isAccessibleBy(OTHER_THREAD)) {
            throw new IllegalArgumentException("this buffer is confined to one thread, and an asynchronous request "
                    + "through a bounce buffer must copy it on another: use a buffer from a shared or automatic "
                    + "arena, or an aligned one that needs no bounce");
        }
    }

    /** Starts a read of {@code dst}'s remaining bytes at {@code position}; its position advances by the count. */
    public void read(ByteBuffer dst, long position, ChannelCompletion op) {
        checkRange(position, dst.remaining());
        MemorySegment direct = dst.isDirect() ? MemorySegment.ofBuffer(dst) : null;
        checkBuffer(direct, op, needsBounce(direct));
        if (engine.isClosed()) {
            op.fail(new AsynchronousCloseException());
            return;
        }
        op.transfersWith(dst, true);
        int length = dst.remaining();
        if (length == 0) {
            op.request = Request.read(file, MemorySegment.NULL, position, "aio");
            op.finish(0);
        } else if (alignment != null) {
            startDirect(op, dst, direct, position, length, true);
        } else {
            readBuffered(op, dst, direct, position, length);
        }
    }

    /** Starts a write of {@code src}'s remaining bytes at {@code position}; its position advances by the count. */
    public void write(ByteBuffer src, long position, ChannelCompletion op) {
        checkRange(position, src.remaining());
        MemorySegment direct = src.isDirect() ? MemorySegment.ofBuffer(src) : null;
        checkBuffer(direct, op, false);
        if (engine.isClosed()) {
            op.fail(new AsynchronousCloseException());
            return;
        }
        op.transfersWith(src, false);
        int length = src.remaining();
        if (length == 0) {
            op.request = Request.write(file, MemorySegment.NULL, position, "aio");
            op.finish(0);
        } else if (alignment != null) {
            startDirect(op, src, direct, position, length, false);
        } else {
            writeBuffered(op, src, direct, position, length);
        }
    }

    private static void checkRange(long position, int length) {
        if (position + length < 0) {
            throw new IllegalArgumentException("position " + position + " + length " + length + " overflows a long");
        }
    }

    /** Whether a read into this buffer would go through a bounce buffer and need copying back. */
    private boolean needsBounce(MemorySegment direct) {
        if (direct == null) {
            return false; // heap memory is accessible from every thread
        }
        return alignment != null && !alignment.isMemoryAligned(direct.address());
    }

    /** Misaligned direct I/O fails the request (an IOException, as the JDK reports it), before the kernel sees it. */
    private void startDirect(ChannelCompletion op, ByteBuffer buffer, MemorySegment direct, long position,
                             int length, boolean read) {
        MemorySegment memory;
        try {
            memory = chooseDirectMemory(op, buffer, direct, position, length, read);
        } catch (MisalignedIoException e) {
            op.fail(e);
            return;
        }
        if (memory == null) {
            return;
        }
        op.request = read ? Request.read(file, memory, position, "aio") : Request.write(file, memory, position, "aio");
        ENGINES.submit(engine, op.request, op);
    }

    /** The caller's memory when aligned, else a bounce buffer (null: the request failed), else strict refuses. */
    private MemorySegment chooseDirectMemory(ChannelCompletion op, ByteBuffer buffer, MemorySegment direct,
                                             long position, int length, boolean read) throws MisalignedIoException {
        RequestChecks.checkDirectOffset(file, position, "file position");
        RequestChecks.checkDirectOffset(file, length, "length");

        MemorySegment memory;
        if (direct != null && alignment.isMemoryAligned(direct.address())) {
            memory = direct;
        } else if (strict) {
            if (direct == null) {
                throw RequestChecks.misaligned("direct I/O on " + file.path() + " needs native memory aligned to "
                        + alignment.memory() + " bytes, and this is a heap buffer (STRICT_ALIGNMENT is on): use "
                        + "ByteBuffer.allocateDirect and align it, or open without STRICT_ALIGNMENT to bounce it",
                        alignment.memory());
            }
            RequestChecks.checkDirectMemory(file, direct.address(), "buffer address");
            memory = direct;
        } else {
            memory = bounce(op, buffer, length, read);
        }
        return memory;
    }

    /**
     * Copies through a pooled aligned buffer.
     *
     * @return the bounce memory, or null (the request failed) once the engine is closed
     */
    private MemorySegment bounce(ChannelCompletion op, ByteBuffer buffer, int length, boolean read) {
        AlignedBufferPool pool = ENGINES.bouncePool(engine);
        AlignedBufferPool.Buffer bounce;
        try {
            bounce = pool.acquire(length);
        } catch (IllegalStateException poolClosed) {
            op.fail(new AsynchronousCloseException()); // the engine closed since read() or write() looked
            return null;
        }
        op.bouncesThrough(pool, bounce, read ? buffer : null);
        MemorySegment memory = bounce.segment.asSlice(0, length);
        if (!read) {
            try {
                MemorySegment.copy(MemorySegment.ofBuffer(buffer), 0, memory, 0, length);
            } catch (RuntimeException | Error e) {
                op.releaseBounce(); // the caller's memory went away meanwhile: do not leak the pool's
                throw e;
            }
        }
        return memory;
    }

    private void readBuffered(ChannelCompletion op, ByteBuffer dst, MemorySegment direct, long position,
                              int length) {
        MemorySegment memory = direct != null ? direct : bounce(op, dst, length, true);
        if (memory == null) {
            return;
        }
        Request request = op.request = Request.read(file, memory, position, "preadv2");
        if (!nowaitUnsupported) {
            long result;
            try {
                result = transfer(request, aio_abi_h.RWF_NOWAIT());
            } catch (IOException e) {
                op.fail(e);
                return;
            }
            if (result == -ErrnoExceptions.EOPNOTSUPP) {
                nowaitUnsupported = true; // tmpfs and friends: go straight to the pool from now on
            } else if (result != -ErrnoExceptions.EAGAIN) {
                finishInline(op, result);
                return;
            }
        }
        runBlocking(op, request, 0);
    }

    private void writeBuffered(ChannelCompletion op, ByteBuffer src, MemorySegment direct, long position,
                               int length) {
        MemorySegment memory = direct != null ? direct : bounce(op, src, length, false);
        if (memory == null) {
            return;
        }
        Request request = op.request = Request.write(file, memory, position, "pwritev2");
        if (syncWrites) {
            runBlocking(op, request, 0);
            return;
        }
        long result;
        try {
            result = transfer(request, 0);
        } catch (IOException e) {
            op.fail(e);
            return;
        }
        finishInline(op, result);
    }

    /**
     * Finishes a request on the calling thread. A CompletionHandler goes
     * through the {@link Trampoline}, so that a chain of callbacks runs as a
     * loop; a waiter is parked right here, and a future's dependents are
     * CompletableFuture's business (it unwinds nested completions itself, and
     * a callback may block on that future): those are never deferred.
     */
    private void finishInline(ChannelCompletion op, long result) {
        if (op instanceof ChannelCompletion.ToHandler<?>) {
            Trampoline.deliver(op, result, DeliveryThreads.executor()); // never the pool: a handler may wait for it
        } else {
            op.finish(result);
        }
    }

    private void runBlocking(ChannelCompletion op, Request request, int flags) {
        try {
            pool.execute(() -> {
                long result;
                try {
                    result = transfer(request, flags);
                } catch (IOException | RuntimeException e) {
                    op.failOffPool(e);
                    return;
                }
                op.finishOffPool(result); // the caller's code runs off the pool, which it may wait for
            });
        } catch (RejectedExecutionException e) {
            op.fail(new AsynchronousCloseException());
        }
    }

    /** One preadv2 or pwritev2 of the whole segment: bytes, or -errno. EINTR is retried. */
    private long transfer(Request request, int flags) throws IOException {
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            throw new ClosedChannelException();
        }
        try {
            Scratch scratch = SCRATCH.get();
            MemorySegment iov = scratch.iov;
            MemorySegment errno = scratch.errno;
            MemorySegment buffer = request.segment();
            long position = request.position();
            iovec.iov_base(iov, buffer);
            iovec.iov_len(iov, buffer.byteSize());
            return request.kind() == Request.Kind.READ
                    ? Syscalls.restartOnEintr(() -> Syscalls.preadv2(errno, fd, iov, 1, position, flags))
                    : Syscalls.restartOnEintr(() -> Syscalls.pwritev2(errno, fd, iov, 1, position, flags));
        } finally {
            handle.release();
        }
    }
}
