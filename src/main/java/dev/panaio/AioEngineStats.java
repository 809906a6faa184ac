package dev.panaio;

/**
 * A snapshot of what an {@link AioEngine} has done since it opened, from
 * {@link AioEngine#stats()}. Counts only grow; {@link #inFlight()} and
 * {@link #queued()} are levels at the moment of the snapshot. The fields are
 * read one by one without stopping the engine, so they may disagree slightly
 * (a request completed after {@code completed} was read and before
 * {@code inFlight} was).
 *
 * @param requestsSubmitted   requests the kernel accepted through {@code io_submit}
 * @param requestsCompleted   completions the engine delivered
 * @param inFlight            requests in the kernel now
 * @param queued              requests waiting in the engine's queues for room in the kernel
 * @param ioSubmitCalls       {@code io_submit} system calls
 * @param inlineHits          buffered channel reads the page cache answered on the calling thread with
 *                            {@code RWF_NOWAIT}: bytes, the end of the file, or an error returned at once
 *                            (not a platform thread's own {@code pread} through AioFileChannel, which asks
 *                            nothing)
 * @param inlineMisses        buffered channel reads it could not answer at once, run on the blocking pool
 * @param poolRuns            channel reads and writes run on the blocking pool, and direct writes the kernel
 *                            would have blocked on (RWF_NOWAIT gave EAGAIN), written there instead
 * @param bounceCopiedBytes   bytes copied through panaio's bounce buffers (memory not usable in place)
 * @param backpressureWaits   times a submitting thread parked because a queue held {@code maxPending} requests
 * @param eagainRetries       {@code io_submit} answers of EAGAIN (no room), retried after completions freed some
 * @param partialSubmits      {@code io_submit} calls that accepted only the first part of a batch
 */
public record AioEngineStats(long requestsSubmitted, long requestsCompleted, long inFlight, long queued,
                             long ioSubmitCalls, long inlineHits, long inlineMisses, long poolRuns,
                             long bounceCopiedBytes, long backpressureWaits, long eagainRetries,
                             long partialSubmits) {
    /**
     * Requests per {@code io_submit} call on average.
     *
     * @return requests submitted over io_submit calls; 0 before the first call
     */
    public double meanBatch() {
        return ioSubmitCalls == 0 ? 0 : (double) requestsSubmitted / ioSubmitCalls;
    }
}
