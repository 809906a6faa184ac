package dev.panaio;

import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.ArrayDeque;
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
 * Each operation is finished exactly once: on the calling thread, an engine
 * thread or a pool thread.
 *
 * <p>Thread-safe.
 */
final class FileIo {
    private final AioEngine engine;
    private final AioFile file;
    private final DirectAlignment alignment;
    private final boolean strict;
    private final boolean syncWrites;
    private volatile boolean nowaitUnsupported;

    FileIo(AioEngine engine, AioFile file, boolean strict, boolean syncWrites) throws IOException {
        this.engine = engine;
        this.file = file;
        this.alignment = file.isDirect() ? file.alignment() : null;
        this.strict = strict;
        this.syncWrites = syncWrites;
    }

    /** Opens the channel's own descriptor of {@code path} for AIO, with the channel's options. */
    static FileIo open(Path path, AioFileChannel.ChannelOptions options, AioEngine engine) throws IOException {
        AioFile file = AioFile.open(path, options.aioOptions());
        try {
            return new FileIo(engine, file, options.strict(), options.syncWrites());
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    AioFile file() {
        return file;
    }

    AioEngine engine() {
        return engine;
    }

    /**
     * Per thread: native scratch for {@link #transfer} (one iovec, one errno
     * capture), so that a page-cache hit allocates no native memory; and the
     * completions found on this thread while a callback of an earlier one is
     * still running here, delivered when it returns. The scratch is
     * GC-managed: a thread's is freed when the thread is gone.
     */
    private static final class PerThread {
        final MemorySegment iov;
        final MemorySegment errno;
        boolean delivering;
        final ArrayDeque<Operation> deferred = new ArrayDeque<>();

        PerThread() {
            Arena arena = Arena.ofAuto();
            iov = iovec.allocate(arena);
            errno = Syscalls.errnoCapture(arena);
        }
    }

    private static final ThreadLocal<PerThread> PER_THREAD = ThreadLocal.withInitial(PerThread::new);
    /** A thread that is never started: a confined segment is not accessible by it. */
    private static final Thread OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    /**
     * Checks a caller's buffer before anything uses its address: a direct
     * buffer whose arena is closed would send the kernel into freed memory.
     */
    private static void checkBuffer(MemorySegment segment, Operation op, boolean needsCopyElsewhere) {
        if (segment == null) {
            return; // heap memory
        }
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("the buffer's arena is already closed");
        }
        if (needsCopyElsewhere && !(op instanceof Operation.ToWaiter) && !segment.isAccessibleBy(OTHER_THREAD)) {
            throw new IllegalArgumentException("this buffer is confined to one thread, and an asynchronous request "
                    + "through a bounce buffer must copy it on another: use a buffer from a shared or automatic "
                    + "arena, or an aligned one that needs no bounce");
        }
    }

    /** Starts a read of {@code dst}'s remaining bytes at {@code position}; its position advances by the count. */
    void read(ByteBuffer dst, long position, Operation op) {
        checkRange(position, dst.remaining());
        MemorySegment direct = dst.isDirect() ? MemorySegment.ofBuffer(dst) : null;
        checkBuffer(direct, op, needsBounce(direct));
        if (engine.isClosed()) {
            op.fail(new AsynchronousCloseException());
            return;
        }
        op.advance = dst;
        op.eofAsMinusOne = true;
        op.keepAlive = dst;
        int length = dst.remaining();
        if (length == 0) {
            op.segment = MemorySegment.NULL;
            op.finish(0);
        } else if (alignment != null) {
            startDirect(op, dst, direct, length, true);
        } else {
            readBuffered(op, dst, direct, length);
        }
    }

    /** Starts a write of {@code src}'s remaining bytes at {@code position}; its position advances by the count. */
    void write(ByteBuffer src, long position, Operation op) {
        checkRange(position, src.remaining());
        MemorySegment direct = src.isDirect() ? MemorySegment.ofBuffer(src) : null;
        checkBuffer(direct, op, false);
        if (engine.isClosed()) {
            op.fail(new AsynchronousCloseException());
            return;
        }
        op.advance = src;
        op.keepAlive = src;
        int length = src.remaining();
        if (length == 0) {
            op.segment = MemorySegment.NULL;
            op.finish(0);
        } else if (alignment != null) {
            startDirect(op, src, direct, length, false);
        } else {
            writeBuffered(op, src, direct, length);
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

    private void startDirect(Operation op, ByteBuffer buffer, MemorySegment direct, int length, boolean read) {
        AioContext.checkDirectOffset(file, op.position, "file position");
        AioContext.checkDirectOffset(file, length, "length");

        if (direct != null && alignment.isMemoryAligned(direct.address())) {
            op.segment = direct;
        } else if (strict) {
            if (direct == null) {
                throw new MisalignedIoException("direct I/O on " + file.path() + " needs native memory aligned to "
                        + alignment.memory() + " bytes, and this is a heap buffer (STRICT_ALIGNMENT is on): use "
                        + "ByteBuffer.allocateDirect and align it, or open without STRICT_ALIGNMENT to bounce it",
                        alignment.memory());
            }
            AioContext.checkDirectMemory(file, direct.address(), "buffer address");
        } else if (!bounce(op, buffer, length, read)) {
            return;
        }
        engine.submit(op);
    }

    /** Copies through a pooled aligned buffer; false (the operation failed) once the engine is closed. */
    private boolean bounce(Operation op, ByteBuffer buffer, int length, boolean read) {
        AlignedBufferPool pool = engine.bouncePool();
        try {
            op.bounce = pool.acquire(length);
        } catch (IllegalStateException poolClosed) {
            op.fail(new AsynchronousCloseException()); // the engine closed since read() or write() looked
            return false;
        }
        op.bouncePool = pool;
        op.segment = op.bounce.segment.asSlice(0, length);
        if (read) {
            op.copyBackTo = buffer;
        } else {
            try {
                MemorySegment.copy(MemorySegment.ofBuffer(buffer), 0, op.segment, 0, length);
            } catch (RuntimeException | Error e) {
                op.releaseBounce(); // the caller's memory went away meanwhile: do not leak the pool's
                throw e;
            }
        }
        return true;
    }

    private void readBuffered(Operation op, ByteBuffer dst, MemorySegment direct, int length) {
        if (direct != null) {
            op.segment = direct;
        } else if (!bounce(op, dst, length, true)) {
            return;
        }
        op.resultCall = "preadv2";
        if (!nowaitUnsupported) {
            long result;
            try {
                result = transfer(op.segment, op.position, RwFlag.NOWAIT.bits(), true);
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
        runBlocking(op, true, 0);
    }

    private void writeBuffered(Operation op, ByteBuffer src, MemorySegment direct, int length) {
        if (direct != null) {
            op.segment = direct;
        } else if (!bounce(op, src, length, false)) {
            return;
        }
        op.resultCall = "pwritev2";
        if (syncWrites) {
            runBlocking(op, false, 0);
            return;
        }
        long result;
        try {
            result = transfer(op.segment, op.position, 0, false);
        } catch (IOException e) {
            op.fail(e);
            return;
        }
        finishInline(op, result);
    }

    /** Completions one thread delivers in a row before it hands the rest of a chain to the pool. */
    private static final int MAX_CHAINED_DELIVERIES = 256;

    /**
     * Finishes an operation on the calling thread. A callback that starts the
     * next read from inside the last one's callback would recurse once per
     * page-cache hit until the stack overflows; so a completion found while a
     * callback runs on this thread is deferred, and delivered by the
     * outermost one when that callback returns: the chain runs as a loop.
     * After {@link #MAX_CHAINED_DELIVERIES} the rest goes to the pool, so that
     * the thread that started the chain gets control back.
     */
    private void finishInline(Operation op, long result) {
        if (!(op instanceof Operation.ToHandler<?>)) {
            // A waiter is parked right here; a future's dependents are CompletableFuture's business (it
            // unwinds nested completions itself), and a callback may block on that future: never defer it.
            op.finish(result);
            return;
        }
        PerThread trampoline = PER_THREAD.get();
        if (trampoline.delivering) {
            op.inlineResult = result;
            trampoline.deferred.addLast(op);
            return;
        }
        op.inlineResult = result;
        deliverChain(trampoline, op);
    }

    /** Delivers {@code first}, then what its callbacks defer, up to the budget; the rest continues on the pool. */
    private void deliverChain(PerThread trampoline, Operation first) {
        trampoline.delivering = true;
        try {
            deliver(first, first.inlineResult);
            Operation next;
            for (int delivered = 1; (next = trampoline.deferred.pollFirst()) != null; delivered++) {
                if (delivered >= MAX_CHAINED_DELIVERIES) {
                    Operation resume = next;
                    try {
                        engine.blockingPool().execute(() -> deliverChain(PER_THREAD.get(), resume));
                        continue; // the rest of the deque: each is the head of a chain, handed off likewise
                    } catch (RejectedExecutionException closed) {
                        // the engine is closing: deliver here rather than drop it
                    }
                }
                deliver(next, next.inlineResult);
            }
        } finally {
            trampoline.delivering = false;
            // Only if a delivery threw past deliver(): the deferred ones must not wait for a later chain.
            Operation stranded;
            while ((stranded = trampoline.deferred.pollFirst()) != null) {
                Operation op = stranded;
                try {
                    engine.blockingPool().execute(() -> deliverChain(PER_THREAD.get(), op));
                } catch (RejectedExecutionException closed) {
                    deliver(op, op.inlineResult);
                }
            }
        }
    }

    private static void deliver(Operation op, long result) {
        try {
            op.finish(result);
        } catch (Throwable t) {
            // finish() reports callback failures itself; this keeps the deferred ones behind it flowing.
            Thread current = Thread.currentThread();
            current.getUncaughtExceptionHandler().uncaughtException(current, t);
        }
    }

    private void runBlocking(Operation op, boolean read, int flags) {
        try {
            engine.blockingPool().execute(() -> {
                long result;
                try {
                    result = transfer(op.segment, op.position, flags, read);
                } catch (IOException | RuntimeException e) {
                    op.fail(e);
                    return;
                }
                op.finish(result);
            });
        } catch (RejectedExecutionException e) {
            op.fail(new AsynchronousCloseException());
        }
    }

    /** One preadv2 or pwritev2 of the whole segment: bytes, or -errno. EINTR is retried. */
    private long transfer(MemorySegment buffer, long position, int flags, boolean read) throws IOException {
        int fd;
        try {
            fd = file.handle.acquire();
        } catch (IllegalStateException closed) {
            throw new ClosedChannelException();
        }
        try {
            PerThread scratch = PER_THREAD.get();
            MemorySegment iov = scratch.iov;
            MemorySegment errno = scratch.errno;
            iovec.iov_base(iov, buffer);
            iovec.iov_len(iov, buffer.byteSize());
            long result;
            do {
                result = read
                        ? Syscalls.preadv2(errno, fd, iov, 1, position, flags)
                        : Syscalls.pwritev2(errno, fd, iov, 1, position, flags);
            } while (result == -ErrnoExceptions.EINTR);
            return result;
        } finally {
            file.handle.release();
        }
    }
}
