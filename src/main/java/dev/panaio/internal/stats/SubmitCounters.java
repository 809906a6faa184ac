package dev.panaio.internal.stats;

/**
 * What one {@code AioContext}'s submitter did: io_submit system calls,
 * requests they accepted, answers of EAGAIN (no room; retried after a wait)
 * and partial acceptances (the kernel took the first part of a batch).
 * Written only by the thread that owns the context, read by any.
 */
public final class SubmitCounters {
    /** io_submit system calls made, whatever their answer. */
    public final PublishedCounter ioSubmitCalls = new PublishedCounter();
    /** Requests io_submit accepted. */
    public final PublishedCounter requestsAccepted = new PublishedCounter();
    /** io_submit answers of EAGAIN (or 0: nothing accepted) that were retried. */
    public final PublishedCounter eagainRetries = new PublishedCounter();
    /** io_submit calls that accepted part of the batch handed to them. */
    public final PublishedCounter partialSubmits = new PublishedCounter();
}
