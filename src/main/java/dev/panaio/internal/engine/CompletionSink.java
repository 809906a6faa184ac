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
     * Called just before the request is prepared for io_submit, perhaps more
     * than once (a request io_submit handed back is prepared again): false if
     * its owner has closed, and then the request fails with
     * {@code AsynchronousCloseException} instead. A channel counts its
     * requests in the kernel here, so that its close can wait for them.
     */
    default boolean enteringKernel() {
        return true;
    }

    /**
     * The request did not reach the kernel after {@link #enteringKernel()}
     * (io_submit handed it back, or it could not be prepared): it waits in
     * the engine again, and enters again before its next try.
     */
    default void handedBack() {
    }

    /**
     * Whether the thread that submits the request may wait for its result
     * (a parked caller, a future's {@code get}): then the engine is woken at
     * once. A sink that calls a handler back says false, and a default-pool
     * handler that submits it may hold the wake-up until it returns
     * ({@link HeldSignals}).
     */
    default boolean submitterMayWait() {
        return true;
    }

    /**
     * As {@link #finish}, on a blocking-pool thread: caller code (a future's
     * dependents, a handler) must not run there, where it could wait for the
     * pool it occupies, so it runs on {@link DeliveryThreads}. A sink with
     * bookkeeping that must end before the pool does (giving memory back)
     * does it here first.
     */
    default void finishOffPool(long result) {
        DeliveryThreads.deliver(() -> finish(result));
    }

    /** As {@link #fail}, on a blocking-pool thread: see {@link #finishOffPool}. */
    default void failOffPool(Throwable error) {
        DeliveryThreads.deliver(() -> fail(error));
    }
}
