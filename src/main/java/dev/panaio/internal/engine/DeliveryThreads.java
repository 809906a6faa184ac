package dev.panaio.internal.engine;

import java.util.concurrent.Executor;

/**
 * Where the results of requests finished on an engine's blocking pool are
 * delivered: a future's dependents and CompletionHandlers are the caller's
 * code, and caller code that waits for the pool (a blocking read on a file
 * the page cache does not hold) would deadlock the pool if it ran on one of
 * the pool's threads. A {@linkplain CachedThreads cached pool} of daemon
 * threads named {@code panaio-delivery-N}, shared by every engine.
 *
 * <p>Thread-safe.
 */
public final class DeliveryThreads {
    private DeliveryThreads() {
    }

    private static final class Holder {
        static final Executor EXECUTOR = CachedThreads.pool(CachedThreads.daemons("panaio-delivery-"));
    }

    /** The shared executor, made on first use. It is never shut down, so it never rejects a task. */
    public static Executor executor() {
        return Holder.EXECUTOR;
    }

    /**
     * Hands {@code delivery} to the delivery threads. Where none could be
     * made for it (the JVM out of memory or threads), it runs on a virtual
     * thread, which needs no new platform thread while the carriers live; and
     * only if that fails too, here, on the pool thread: the last resort, where
     * caller code that waits for the pool can hold it (the thing the delivery
     * threads are for), but a result lost would leave its caller waiting for
     * ever. The failure is reported once the delivery has run.
     */
    public static void deliver(Runnable delivery) {
        deliver(executor(), delivery);
    }

    /**
     * As {@link #deliver(Runnable)}, through {@code executor}, which must
     * queue nothing when it throws (a cached pool hands a task to a thread or
     * fails): a throw then means the task will not run.
     */
    static void deliver(Executor executor, Runnable delivery) {
        try {
            executor.execute(delivery);
            return;
        } catch (RuntimeException | Error noThread) {
            try {
                try {
                    Thread.ofVirtual().name("panaio-delivery-virtual").start(delivery);
                } catch (RuntimeException | Error noVirtualThread) {
                    noThread.addSuppressed(noVirtualThread);
                    delivery.run();
                }
            } finally {
                UncaughtExceptions.report(noThread);
            }
        }
    }
}
