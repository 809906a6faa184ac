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
}
