package dev.panaio.internal.memory;

/**
 * A caller's memory handed over for one asynchronous request: settled or
 * released exactly once, on whichever thread completes the request.
 */
public interface HandedOverMemory {
    /**
     * Settles a completed request with its {@code result}: copies a bounced
     * read's bytes back, then gives back whatever was held.
     *
     * @throws IllegalStateException if the bytes could not be copied back: the caller's arena was closed while
     *                               the read was in flight (the kernel wrote only panaio's memory)
     */
    void settle(long result);

    /** Gives back whatever was held, without copying: the request failed. Idempotent. */
    void release();
}
