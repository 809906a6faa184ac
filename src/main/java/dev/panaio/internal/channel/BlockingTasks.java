package dev.panaio.internal.channel;

import dev.panaio.AioEngine;
import dev.panaio.internal.engine.ClaimedTask;
import dev.panaio.internal.engine.HeldSignals;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.engine.UncaughtExceptions;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.jfr.FileIoEvent;
import dev.panaio.internal.stats.SharedCounters;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.AsynchronousCloseException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One file's reads on the engine's small blocking pool: those that missed
 * the page cache (its buffered writes go through {@link WriteQueue}). A pool
 * thread first asks the kernel for the pages of the reads still waiting for
 * a thread, up to a bound ({@link Window}). One per {@link FileIo}.
 *
 * <p>Any thread may hand it a request; its tasks run on pool threads.
 */
final class BlockingTasks {
    private final FileDescriptorHandle handle;
    /** The engine's blocking pool, looked up only when a task is handed to it: it is made on first use. */
    private final Executor pool;
    private final SharedCounters counters;
    private final BufferedTransfer transfer;
    /** The channel's requests in the kernel: a task counts in while its system call runs. */
    private final KernelRequests inKernel;
    /** The pool's reads waiting for a thread, and how many have had their pages asked for. */
    private final Window window;

    BlockingTasks(FileDescriptorHandle handle, Executor pool, SharedCounters counters, BufferedTransfer transfer,
                  KernelRequests inKernel, Window window) {
        this.handle = handle;
        this.pool = pool;
        this.counters = counters;
        this.transfer = transfer;
        this.inKernel = inKernel;
        this.window = window;
    }

    /** Runs the read {@code request} on the pool; {@code done} bytes were read already and count in the result. */
    void runBlocking(ChannelCompletion op, Request request, int flags, long done) {
        counters.poolRuns.increment();
        op.answeredBy(FileIoEvent.POOL);
        op.countedBy(inKernel);
        PoolTask task = new PoolTask(op, request, flags, done);
        // A default-pool handler's read is started once the handler returns: waking a pool thread inside its call
        // would let that thread preempt it there (HeldSignals).
        if (op.submitterMayWait() || !HeldSignals.heldStart(() -> start(task))) {
            start(task);
        }
    }

    /** Hands {@code task} to the pool; never throws. */
    private void start(PoolTask task) {
        try {
            window.waiting.add(task); // only now: a held start takes no place in the window while it is held
            pool.execute(task);
        } catch (RejectedExecutionException | Error e) { // closed, or no thread could be started: failed, not lost
            // A ThreadPoolExecutor can queue the task and then throw (no thread could be made for its queue): a pool
            // thread may run it yet, and whichever claims it first finishes it, once.
            if (task.claim()) {
                task.leaveWindow();
                task.op.fail(e instanceof Error ? e : new AsynchronousCloseException());
            } else if (e instanceof Error) {
                UncaughtExceptions.report(e); // the task ran after all; the failure is still told
            }
        }
    }

    /**
     * One engine's reads that wait for a thread of its blocking pool. Whichever
     * pool thread starts a task first asks the kernel for the pages of the
     * oldest of them ({@code POSIX_FADV_WILLNEED}, which starts the disk reads
     * and waits for none), up to {@link #MAX_AHEAD} asked for and not yet run,
     * so that many reads are at the disk while the pool stays small and the
     * caller submits no I/O. A task leaves the queue at the latest when it
     * runs or is refused, so the queue holds only reads still waiting. One
     * per engine, as its pool is: one engine's stalled pool does not stop
     * another's reads being asked for.
     *
     * <p>Thread-safe.
     */
    static final class Window {
        /**
         * The most reads whose pages were asked for ahead of their task (a few
         * more when pool threads start at the same moment: the bound is read,
         * then taken). Unbounded (every miss outstanding: 256 at queue depth
         * 256), with another process writing to the disk, uncached reads at queue
         * depth 256 made 10,850 to 12,839 a second, reading 8.0 KiB from the disk
         * for each 4 KiB: pages evicted before their task ran (memory pressure;
         * the benchmark's {@code --uncached} evicts every 10 ms) were read twice.
         * Bounded, 45,693 and 47,158 at 4.2 to 4.3 KiB (the JDK's channel beside
         * them: 41,539 to 48,512).
         */
        static final int MAX_AHEAD = 64;

        private static final Map<AioEngine, Window> BY_ENGINE = Collections.synchronizedMap(new WeakHashMap<>());

        /** Reads handed to the pool whose pages nobody has asked for yet and whose task has not started. */
        private final ConcurrentLinkedQueue<PoolTask> waiting = new ConcurrentLinkedQueue<>();
        /** How many tasks have their pages asked for and have not run (nor been refused). */
        private final AtomicInteger ahead = new AtomicInteger();

        /** The window of {@code engine}'s blocking pool. */
        static Window of(AioEngine engine) {
            return BY_ENGINE.computeIfAbsent(engine, unused -> new Window());
        }

        /** How many reads have their pages asked for and have not run, for tests. */
        int readsAhead() {
            return ahead.get();
        }

        /** How many reads wait for a pool thread, for tests. */
        int readsWaiting() {
            return waiting.size();
        }
    }

    /** A read on the pool, whose pages another pool thread may have asked for ahead. */
    private final class PoolTask extends ClaimedTask {
        private static final VarHandle STATE;
        /** Its states in {@link Window}: waiting in its queue, its pages asked for ahead, out of it. */
        private static final int WAITING = 0;
        private static final int ASKED = 1;
        private static final int LEFT = 2;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(PoolTask.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final ChannelCompletion op;
        private final Request request;
        private final int flags;
        private final long done;
        @SuppressWarnings("unused") // through STATE
        private volatile int state;

        PoolTask(ChannelCompletion op, Request request, int flags, long done) {
            this.op = op;
            this.request = request;
            this.flags = flags;
            this.done = done;
        }

        /** Asks the kernel to start reading this task's pages into the page cache, if it still waits. */
        void startPageReads() {
            if (STATE.compareAndSet(this, WAITING, ASKED)) {
                window.ahead.incrementAndGet();
                willNeed(request.position(), request.length());
            }
        }

        /**
         * This task runs, or never will: it leaves the window's queue, and its
         * pages, if asked for ahead, no longer count. Once only, whoever calls.
         */
        void leaveWindow() {
            int was = (int) STATE.getAndSet(this, LEFT);
            if (was == ASKED) {
                window.ahead.decrementAndGet(); // a poll took it out of the queue
            } else if (was == WAITING) {
                window.waiting.remove(this); // near the head: tasks start in the order they were queued
            }
        }

        /** On a pool thread, unless the hand-off failed it already, the pool having thrown after queueing it. */
        @Override
        protected void runClaimed() {
            long result;
            try {
                // Inside the try: an error here fails this request rather than losing it.
                leaveWindow(); // its own read below starts its pages
                for (PoolTask next; window.ahead.get() < Window.MAX_AHEAD && (next = window.waiting.poll()) != null; ) {
                    next.startPageReads();
                }
                if (!op.enteringKernel()) {
                    // The channel's close has begun and waits only for calls already in the kernel.
                    throw new AsynchronousCloseException();
                }
                result = transfer.transfer(request, flags);
            } catch (IOException | RuntimeException | Error e) {
                // The caller's code runs off the pool, which it may wait for. An Error too: the request is counted in
                // the channel's close wait, which must not wait for a request nothing will finish.
                if (done > 0) {
                    op.finishOffPool(done);
                } else {
                    op.failOffPool(e);
                }
                return;
            }
            op.finishOffPool(done == 0 ? result : result < 0 ? done : done + result);
        }
    }

    /** posix_fadvise(WILLNEED) on the range, when the channel is still open; its result changes nothing. */
    private void willNeed(long position, long length) {
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            return;
        }
        try {
            Syscalls.posix_fadvise(fd, position, length, aio_abi_h.POSIX_FADV_WILLNEED());
        } finally {
            handle.release();
        }
    }
}
