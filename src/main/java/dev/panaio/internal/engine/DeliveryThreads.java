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
     * Hands {@code delivery} to the delivery threads; where none could be
     * made for it (the JVM out of memory or threads), reports that and runs it
     * here: a result delivered on a pool thread beats one lost, and a pool
     * task that threw would leave its request unfinished.
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
        } catch (RuntimeException | Error noThread) {
            UncaughtExceptions.report(noThread);
            delivery.run();
        }
    }
}
