package dev.panaio.internal.engine;

import dev.panaio.AioException;
import dev.panaio.RequestOptions;
import dev.panaio.RwFlag;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;

/**
 * An {@code O_DIRECT} write (of one buffer or a vector) submitted with
 * {@code RWF_NOWAIT}, so that a write the filesystem cannot start without
 * blocking (one that extends the file, or needs its inode lock or a block
 * allocation) completes at once with
 * {@code -EAGAIN} instead of holding the engine thread inside
 * {@code io_submit}; that write is then made on the blocking pool with a
 * plain {@code pwritev2}, and its result goes on to the request's sink.
 *
 * <p>A filesystem that refuses NOWAIT outright (tmpfs: {@code EOPNOTSUPP}
 * from io_submit) gets the write resubmitted without it, and the file is
 * marked so that its later writes go without it from the start. A caller's
 * own NOWAIT is left alone: that caller asked for EAGAIN.
 *
 * <p>The memory stays the request's until its sink is finished, which happens
 * after the pool's write returns, so the pool writes only from memory whose
 * lifetime the sink guards. Exactly one of the sink's methods is called, once.
 *
 * <p>Thread-safe: finished on an engine thread, written on a pool thread.
 */
public final class NowaitFallback extends LoopSubmission implements CompletionSink {
    private static final SharedSecrets.OptionsAccess OPTIONS = SharedSecrets.optionsAccess();

    /** The request as its owner made it, without the NOWAIT panaio added (the entry's {@code request} has it). */
    private final Request withoutNowait;
    private final CompletionSink next;
    private final Executor pool;
    private final Runnable counted;
    private final BiConsumer<Request, CompletionSink> resubmit;

    private NowaitFallback(Request request, CompletionSink next, Executor pool, Runnable counted,
                           BiConsumer<Request, CompletionSink> resubmit) {
        this.withoutNowait = request;
        this.next = next;
        this.pool = pool;
        this.counted = counted;
        this.resubmit = resubmit;
    }

    /**
     * Whether panaio adds NOWAIT to {@code request}: a direct write, of one buffer or a vector, unless its caller
     * set NOWAIT or its file refused it.
     */
    public static boolean appliesTo(Request request) {
        return request.kind() == Request.Kind.WRITE && request.file().isDirect()
                && !request.options().has(RwFlag.NOWAIT)
                && !SharedSecrets.fileAccess().refusesNowait(request.file());
    }

    /**
     * The request to submit in place of {@code request}, with NOWAIT, and the sink for it, which finishes
     * {@code next}.
     *
     * @param pool     where a write that met EAGAIN is made
     * @param counted  told of each write handed to the pool
     * @param resubmit submits a request again (without NOWAIT, after EOPNOTSUPP)
     */
    public static Submission wrap(Request request, CompletionSink next, Executor pool, Runnable counted,
                                  BiConsumer<Request, CompletionSink> resubmit) {
        Request nowait = new Request(request.kind(), request.file(), request.pollTarget(), request.segment(),
                request.vector(), request.position(), request.pollEvents(), request.call(),
                withNowait(request.options()));
        return new Submission(nowait, new NowaitFallback(request, next, pool, counted, resubmit));
    }

    /** A request and the sink to submit it with. */
    public record Submission(Request request, CompletionSink sink) {
    }

    private static RequestOptions withNowait(RequestOptions options) {
        return options.withFlags(RwFlag.NOWAIT);
    }

    @Override
    public void finish(long result) {
        if (result == -ErrnoExceptions.EOPNOTSUPP) {
            refused(); // io_submit refuses it on the filesystems known here; a result saying so is handled alike
            return;
        }
        if (result != -ErrnoExceptions.EAGAIN) {
            next.finish(result);
            return;
        }
        counted.run();
        next.handedBack(); // queued for the pool, not in the kernel: a close does not wait for it while it waits there
        PoolWrite task = new PoolWrite();
        try {
            pool.execute(task);
        } catch (RejectedExecutionException closed) {
            if (task.claim()) {
                next.fail(new AsynchronousCloseException());
            }
        } catch (Error noThread) { // the pool could not start a thread: the write is failed, not lost
            // A ThreadPoolExecutor can queue the task and then throw: a pool thread may run it yet, and whichever
            // claims it first finishes the write, once.
            if (task.claim()) {
                next.fail(noThread);
            } else {
                UncaughtExceptions.report(noThread); // written after all; the failure is still told
            }
        }
    }

    /**
     * One hand-off of the write to the pool, finished once ({@link ClaimedTask}).
     * Without that, a write the pool queued before it threw would be failed
     * and then made, from memory the failure had given back.
     */
    private final class PoolWrite extends ClaimedTask {
        @Override
        protected void runClaimed() {
            writeBlocking();
        }
    }

    @Override
    public void fail(Throwable error) {
        if (error instanceof AioException refusal && refusal.errno() == ErrnoExceptions.EOPNOTSUPP) {
            refused();
            return;
        }
        next.fail(error);
    }

    /** The request's owner counts it in the kernel (a channel, whose close waits for it) through this sink. */
    @Override
    public boolean enteringKernel() {
        return next.enteringKernel();
    }

    @Override
    public void handedBack() {
        next.handedBack();
    }

    @Override
    public boolean submitterMayWait() {
        return next.submitterMayWait();
    }

    /** The filesystem refused the NOWAIT panaio added (tmpfs): this file writes without it from now on. */
    private void refused() {
        SharedSecrets.fileAccess().refuseNowait(withoutNowait.file());
        next.handedBack(); // queued again, not in the kernel: it enters again when it is prepared
        resubmit.accept(withoutNowait, next);
    }

    /** On the pool: the write the kernel would not start without blocking, made blocking. */
    private void writeBlocking() {
        if (!next.enteringKernel()) {
            // Its channel's close has begun, which waits only for requests already in the kernel.
            next.failOffPool(new AsynchronousCloseException());
            return;
        }
        long result;
        try {
            result = pwrite(withoutNowait, OPTIONS.rwFlags(withoutNowait.options()));
        } catch (AsynchronousCloseException | RuntimeException | Error e) {
            next.failOffPool(e);
            return;
        }
        next.finishOffPool(result);
    }

    private static long pwrite(Request request, int flags) throws AsynchronousCloseException {
        FileDescriptorHandle handle = SharedSecrets.fileAccess().handle(request.file());
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            throw new AsynchronousCloseException(); // closed while the request was in flight, as the JDK reports it
        }
        MemorySegment[] buffers = request.vector() != null ? request.vector()
                : new MemorySegment[] {request.segment()};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = iovec.allocateArray(buffers.length, arena);
            for (int i = 0; i < buffers.length; i++) {
                MemorySegment entry = iovec.asSlice(iov, i);
                iovec.iov_base(entry, buffers[i]);
                iovec.iov_len(entry, buffers[i].byteSize());
            }
            MemorySegment errno = Syscalls.errnoCapture(arena);
            // The first buffer is an argument of the downcall: FFM holds its arena's session while the kernel reads
            // it; the request's sink guards every buffer's lifetime until it is finished.
            return Syscalls.restartOnEintr(() -> Syscalls.pwritev2Holding(errno, fd, iov, buffers.length,
                    request.position(), flags, buffers[0]));
        } finally {
            handle.release();
        }
    }
}
