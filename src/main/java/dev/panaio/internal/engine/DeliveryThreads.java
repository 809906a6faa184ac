package dev.panaio.internal.engine;

import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the results of requests finished on an engine's blocking pool are
 * delivered: a future's dependents and CompletionHandlers are the caller's
 * code, and caller code that waits for the pool (a blocking read on a file
 * the page cache does not hold) would deadlock the pool if it ran on one of
 * the pool's threads. Like the JDK's default AsynchronousChannelGroup, this is
 * an unbounded cached pool of daemon threads, shared by every engine: a thread
 * is made only when none is idle, and idle ones end after a minute.
 *
 * <p>Thread-safe.
 */
public final class DeliveryThreads {
    private DeliveryThreads() {
    }

    private static final class Holder {
        static final Executor EXECUTOR = create();

        private static Executor create() {
            AtomicInteger count = new AtomicInteger();
            return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                    task -> Thread.ofPlatform().daemon().name("panaio-delivery-" + count.incrementAndGet())
                            .unstarted(task));
        }
    }

    /** The shared executor, made on first use. It is never shut down, so it never rejects a task. */
    public static Executor executor() {
        return Holder.EXECUTOR;
    }
}
