package dev.panaio.internal.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An engine's platform threads for I/O that would block the caller: buffered
 * reads the page cache could not answer, synchronous writes. Made on first
 * use, since most engines serve only direct files; idle threads time out.
 *
 * <p>Its queue is a {@link LinkedTransferQueue}, which takes a task with a
 * compare-and-set: the thread handing over a task (a channel's caller, with a
 * read that missed the page cache) never waits for a lock another thread
 * holds. A {@code LinkedBlockingQueue}'s {@code offer} takes a lock, and on
 * two CPUs a holder preempted inside it kept the callers of every channel
 * parked behind it for milliseconds (seen with JFR's {@code jdk.ThreadPark}
 * in uncached random reads at queue depth 32).
 *
 * <p>Thread-safe.
 */
public final class BlockingPool {
    private final int threads;
    private volatile ExecutorService executor;
    /** Guarded by this: once set, no executor is made. */
    private boolean closed;

    /** A pool of at most {@code threads} threads, none started yet. */
    public BlockingPool(int threads) {
        this.threads = threads;
    }

    /**
     * The executor, made on first use.
     *
     * @throws RejectedExecutionException once {@link #refuseNew()} has run and no executor was made before
     */
    public ExecutorService executor() {
        ExecutorService pool = executor;
        if (pool == null) {
            synchronized (this) {
                pool = executor;
                if (closed) {
                    throw new RejectedExecutionException("the AioEngine is closed");
                }
                if (pool == null) {
                    AtomicInteger count = new AtomicInteger();
                    ThreadPoolExecutor made = new ThreadPoolExecutor(threads, threads, 10, TimeUnit.SECONDS,
                            new LinkedTransferQueue<>(),
                            task -> new PoolThread(this, task, "panaio-blocking-" + count.incrementAndGet()));
                    made.allowCoreThreadTimeOut(true);
                    executor = pool = made;
                }
            }
        }
        return pool;
    }

    /** The first step of the engine's close: no executor is made after this. */
    public synchronized void refuseNew() {
        closed = true;
    }

    /**
     * The last step of the engine's close: new tasks are rejected, and queued
     * and running ones finish before this returns, so that no pool thread
     * writes into a caller's buffer afterwards. Interrupts are kept for later,
     * not obeyed: returning early would break that promise. (On a pool
     * thread itself, which cannot wait for itself, it only starts the
     * shutdown.)
     */
    public void shutdown() {
        ExecutorService pool = executor;
        if (pool == null) {
            return;
        }
        pool.shutdown();
        if (isPoolThread()) {
            // A pool thread cannot wait for itself. Caller code runs here only as DeliveryThreads' last resort, with
            // no thread at all to be made.
            return;
        }
        boolean interrupted = false;
        for (;;) {
            try {
                if (pool.awaitTermination(100, TimeUnit.MILLISECONDS)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
            startThreadForQueue(pool);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A task can wait in the queue with no thread left to run it: every
     * thread timed out while the pool made none for it (no memory for a
     * thread), or died of an error. A shut-down pool starts no thread by
     * itself, and would never terminate; so one is started here, if one can be.
     */
    private static void startThreadForQueue(ExecutorService pool) {
        if (pool instanceof ThreadPoolExecutor executor && executor.getPoolSize() == 0
                && !executor.getQueue().isEmpty()) {
            try {
                executor.prestartCoreThread();
            } catch (Error noThread) {
                // tried again on the next look
            }
        }
    }

    private boolean isPoolThread() {
        return Thread.currentThread() instanceof PoolThread pool && pool.owner == this;
    }

    /** A pool thread, which knows its pool. */
    private static final class PoolThread extends Thread {
        final BlockingPool owner;

        PoolThread(BlockingPool owner, Runnable task, String name) {
            super(task, name);
            this.owner = owner;
            setDaemon(true);
        }
    }
}
