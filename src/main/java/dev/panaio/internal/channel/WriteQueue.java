package dev.panaio.internal.channel;

import dev.panaio.internal.context.RequestChecks;
import dev.panaio.internal.engine.ClaimedTask;
import dev.panaio.internal.engine.DeliveryThreads;
import dev.panaio.internal.engine.HeldSignals;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.engine.UncaughtExceptions;
import dev.panaio.internal.jfr.FileIoEvent;
import dev.panaio.internal.stats.SharedCounters;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One file's buffered writes that the calling thread hands off rather than
 * make: they wait here for the engine's blocking pool, where one task at a
 * time per file makes them with pwritev2, one after another.
 *
 * <p>Why one writer per file: a buffered write holds the inode's lock while
 * it copies into the page cache (and while the kernel throttles it for dirty
 * pages), so writers of one file take turns in the kernel anyway; one pool
 * thread that stays awake while writes keep coming saves a wake-up per write,
 * and writes queued back to back at consecutive positions (appends) go to the
 * kernel as one pwritev2 of several buffers ({@link #MAX_RUN} at most). A run
 * that the kernel writes short (ENOSPC, EFBIG) is not guessed at: each write
 * after the short one is made again on its own, so each gets its own result.
 * Writes from one thread reach the kernel in the order they were queued.
 * A CompletionHandler of a channel opened without an executor is handed to
 * the default pool right here (its {@code execute} neither waits nor runs the
 * handler in place). Results whose delivery only hands a CompletionHandler to
 * an executor of the caller's leave the pool {@link #DELIVERY_BATCH} at a
 * time, in one task; any other result (a future, a waiter, a handler run
 * where it completes) is passed on alone, at once, since its caller code may
 * wait for another write of the batch.
 *
 * <p>The channel's close waits for the writes counted in its
 * {@link KernelRequests}: each write counts in just before the pwritev2 that
 * makes it, and out when its result is settled; a write still queued when the
 * close begins fails with {@code AsynchronousCloseException}, as one queued
 * in the engine does.
 *
 * <p>Memory: only memory whose lifetime the request's {@link ChannelCompletion}
 * guards (a held panaio arena, GC-managed memory, a bounce buffer) is queued.
 *
 * <p>Any thread may queue; the writes run on pool threads.
 */
final class WriteQueue {
    /** The most writes one pwritev2 takes from the queue. */
    static final int MAX_RUN = 64;
    /** The most writes one pool task makes before it gives its thread back to the pool and queues itself again. */
    private static final int MAX_PER_TASK = 1024;
    /** The most results one hand-off to {@link DeliveryThreads} carries. */
    private static final int DELIVERY_BATCH = 16;

    private final Executor pool;
    private final SharedCounters counters;
    private final BufferedTransfer transfer;
    /** The channel's requests in the kernel, which its close waits for: a write counts in as its pwritev2 starts. */
    private final KernelRequests inKernel;
    private final ConcurrentLinkedQueue<Write> queue = new ConcurrentLinkedQueue<>();
    /** Set while a drain task is queued on the pool or running: at most one per file. */
    private final AtomicBoolean draining = new AtomicBoolean();
    /**
     * Hand-offs of results to executors, waiting to leave the pool in one
     * task: one thread wake-up for many writes, not one each. Only the drain
     * task touches it, and it passes them on before it lets another start.
     */
    private final List<Runnable> deliveries = new ArrayList<>();

    WriteQueue(Executor pool, SharedCounters counters, BufferedTransfer transfer, KernelRequests inKernel) {
        this.pool = pool;
        this.counters = counters;
        this.transfer = transfer;
        this.inKernel = inKernel;
    }

    /** A write waiting for the pool; {@code done} bytes of it were written already and count in its result. */
    private record Write(ChannelCompletion op, Request request, int flags, long done) {
        long length() {
            return request.length();
        }

        int buffers() {
            return request.vector() != null ? request.vector().length : 1;
        }
    }

    /**
     * Whether none of this file's writes is queued or being made by the pool
     * (a hint: another thread may queue one meanwhile). A write taken off the
     * queue counts until its drain task ends.
     */
    boolean isIdle() {
        return !draining.get() && queue.isEmpty();
    }

    /**
     * Queues {@code request} for the pool; {@code done} bytes were written
     * already (by a NOWAIT attempt) and count in the result. Returns at once.
     */
    void add(ChannelCompletion op, Request request, int flags, long done) {
        counters.poolRuns.increment();
        op.answeredBy(FileIoEvent.POOL);
        op.countedBy(inKernel);
        queue.add(new Write(op, request, flags, done));
        // A default-pool handler's write starts its drain once the handler returns: waking a pool thread inside
        // its call would let that thread preempt it there (HeldSignals).
        if (op.submitterMayWait() || !HeldSignals.heldStart(this::startDrain)) {
            startDrain();
        }
    }

    private void startDrain() {
        // A write queued while a failed start below was emptying the queue is seen by the loop's next look.
        while (!queue.isEmpty() && draining.compareAndSet(false, true)) {
            Drain task = new Drain();
            try {
                pool.execute(task);
                return;
            } catch (RejectedExecutionException | Error e) { // closed, or no thread could start: failed, not lost
                // A ThreadPoolExecutor can queue the task and then throw (no thread for its queue): if a pool thread
                // has claimed it, that task drains; else it never will, and what is queued fails here.
                if (!task.claim()) {
                    if (e instanceof Error) {
                        UncaughtExceptions.report(e);
                    }
                    return;
                }
                Throwable error = e instanceof Error ? e : new AsynchronousCloseException();
                try {
                    for (Write w; (w = queue.poll()) != null; ) {
                        w.op.fail(error);
                    }
                } finally {
                    draining.set(false); // even if a failure's delivery threw: the next write starts a drain
                }
            }
        }
    }

    /**
     * One drain task handed to the pool, run once ({@link ClaimedTask}): two
     * drains of one file never run at once.
     */
    private final class Drain extends ClaimedTask {
        @Override
        protected void runClaimed() {
            drain();
        }
    }

    /**
     * On the pool: makes the queued writes until none is left, or hands over
     * after {@link #MAX_PER_TASK}. Should an Error escape (no thread for a
     * delivery, out of memory), the file's other writes are not left behind a
     * drain flag nobody clears: another task takes them, or they fail.
     */
    private void drain() {
        try {
            drainQueue();
        } catch (Throwable t) {
            draining.set(false);
            startDrain();
            throw t;
        }
    }

    private void drainQueue() {
        int made = 0;
        for (;;) {
            for (Write first; made < MAX_PER_TASK && (first = queue.poll()) != null; ) {
                made += writeRun(first);
            }
            passOnDeliveries();
            if (made >= MAX_PER_TASK && !queue.isEmpty()) {
                // Let other files' tasks have the thread: this task queues itself behind them, still draining.
                Drain next = new Drain();
                try {
                    pool.execute(next);
                    return;
                } catch (RejectedExecutionException | Error e) {
                    if (e instanceof Error) {
                        UncaughtExceptions.report(e);
                    }
                    if (!next.claim()) {
                        return; // queued after all, and claimed by a pool thread: it drains
                    }
                    made = 0; // closing, or no thread: this task finishes the queue itself
                    continue;
                }
            }
            draining.set(false);
            // A write queued after the poll above saw the flag still set and left it to this task.
            if (queue.isEmpty() || !draining.compareAndSet(false, true)) {
                return;
            }
        }
    }

    /**
     * Makes {@code first} and the writes queued right behind it that continue
     * it (same flags, next position), in one pwritev2.
     *
     * @return how many writes were made
     */
    private int writeRun(Write first) {
        if (first.done != 0 || !first.op.enteringKernel()) {
            writeAlone(first);
            return 1;
        }
        List<Write> run = null;
        long end = first.request.position() + first.length();
        long bytes = first.length();
        int buffers = first.buffers();
        // Only this task polls the queue, so the head seen by peek is the one poll takes.
        for (Write next; (next = queue.peek()) != null; ) {
            if (next.done != 0 || next.flags != first.flags || next.request.position() != end
                    || (run == null ? 1 : run.size()) >= MAX_RUN || buffers + next.buffers() > FileIo.MAX_VECTOR
                    || bytes + next.length() > RequestChecks.MAX_TRANSFER
                    || !next.op.enteringKernel()) { // last: a write counted in joins this run
                break;
            }
            queue.poll();
            if (run == null) {
                run = new ArrayList<>();
                run.add(first);
            }
            run.add(next);
            end += next.length();
            bytes += next.length();
            buffers += next.buffers();
        }
        if (run == null) {
            writeAlone(first);
            return 1;
        }
        writeTogether(run, buffers);
        return run.size();
    }

    private void writeAlone(Write w) {
        if (!w.op.enteringKernel()) {
            // The channel's close has begun: it waits only for writes already in the kernel, as the JDK's does.
            if (w.done > 0) {
                finished(w.op, w.done);
            } else {
                w.op.failOffPool(new AsynchronousCloseException());
            }
            return;
        }
        long result;
        try {
            result = transfer.transfer(w.request, w.flags);
        } catch (IOException | RuntimeException | Error e) {
            // An Error too: the write is counted in its channel's close wait, which must not wait for nothing.
            // The caller's code runs off the pool, which it may wait for.
            if (w.done > 0) {
                finished(w.op, w.done);
            } else {
                w.op.failOffPool(e);
            }
            return;
        }
        finished(w.op, w.done == 0 ? result : result < 0 ? w.done : w.done + result);
    }

    /** Finishes {@code op} with {@code result} from the pool, or keeps its hand-off for the next batch. */
    private void finished(ChannelCompletion op, long result) {
        Runnable delivery = op.finishOffPoolBatched(result);
        if (delivery != null) {
            deliveries.add(delivery);
            if (deliveries.size() >= DELIVERY_BATCH) {
                passOnDeliveries();
            }
        }
    }

    /** Hands the kept hand-offs to {@link DeliveryThreads}, in one task. */
    private void passOnDeliveries() {
        if (deliveries.isEmpty()) {
            return;
        }
        Runnable[] batch = deliveries.toArray(Runnable[]::new);
        deliveries.clear();
        Runnable handOff = () -> {
            for (Runnable delivery : batch) {
                try {
                    delivery.run();
                } catch (RuntimeException | Error e) { // a caller's executor that threw: the rest still go
                    UncaughtExceptions.report(e);
                }
            }
        };
        DeliveryThreads.deliver(handOff);
    }

    /** One pwritev2 of every buffer of {@code run}; the count is shared out in order. */
    private void writeTogether(List<Write> run, int buffers) {
        long result;
        try {
            MemorySegment[] vector = new MemorySegment[buffers];
            int at = 0;
            for (Write w : run) {
                if (w.request.vector() != null) {
                    for (MemorySegment segment : w.request.vector()) {
                        vector[at++] = segment;
                    }
                } else {
                    vector[at++] = w.request.segment();
                }
            }
            Write first = run.getFirst();
            Request together = Request.writeVectored(first.request.file(), vector, first.request.position(),
                    first.request.call(), first.request.options());
            result = transfer.transfer(together, first.flags);
        } catch (IOException | RuntimeException | Error e) {
            result = -1; // each is made again below, and fails or succeeds on its own
        }
        long left = Math.max(result, 0);
        int k = 0;
        for (; k < run.size() && left >= run.get(k).length(); k++) {
            left -= run.get(k).length();
            finished(run.get(k).op, run.get(k).length());
        }
        if (k < run.size() && left > 0) {
            finished(run.get(k).op, left); // a short write, as pwritev2 may answer one alone
            k++;
        }
        for (; k < run.size(); k++) {
            writeAlone(run.get(k));
        }
    }
}
