package dev.panaio.internal.engine;

/**
 * Who is told when a {@link Request} is done: a future, a parked thread, a
 * CompletionHandler. Exactly one of the two methods is called, once, on an
 * engine thread, a pool thread or the submitting thread.
 */
public interface CompletionSink {
    /** The kernel's result: bytes transferred, ready poll events, or {@code -errno}. */
    void finish(long result);

    /** The request never reached the kernel, or could not be completed. */
    void fail(Throwable error);

    /**
     * As {@link #finish}, on a blocking-pool thread: caller code (a future's
     * dependents, a handler) must not run there, where it could wait for the
     * pool it occupies, so it runs on {@link DeliveryThreads}. A sink with
     * bookkeeping that must end before the pool does (giving memory back)
     * does it here first.
     */
    default void finishOffPool(long result) {
        DeliveryThreads.executor().execute(() -> finish(result));
    }

    /** As {@link #fail}, on a blocking-pool thread: see {@link #finishOffPool}. */
    default void failOffPool(Throwable error) {
        DeliveryThreads.executor().execute(() -> fail(error));
    }
}
