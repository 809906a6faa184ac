package dev.panaio.internal.engine;

/**
 * A request on its way through an engine loop, with its sink, and whether it
 * holds one of the loop's pending permits: the loop's own bookkeeping,
 * written by nothing else.
 */
final class LoopSubmission {
    final Request request;
    final CompletionSink sink;
    boolean holdsPermit;

    LoopSubmission(Request request, CompletionSink sink) {
        this.request = request;
        this.sink = sink;
    }
}
