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
}
