package dev.panaio.internal.engine;

/**
 * A request on its way through an engine loop, with its sink, and whether it
 * holds one of the loop's pending permits: the loop's own bookkeeping,
 * written by nothing else.
 *
 * <p>A sink made for one request at a time (a channel's completion, an
 * engine future's sink) may be its own entry, by extending this class, which
 * spares an object per request: {@link EngineLoop#enqueue} then fills in its
 * fields instead of making an entry. Such a sink is enqueued again only once
 * it has left the loop (delivered, failed, or passed on to be submitted
 * afresh), never while the loop holds it.
 */
public class LoopSubmission {
    Request request;
    final CompletionSink sink;
    boolean holdsPermit;

    LoopSubmission(Request request, CompletionSink sink) {
        this.request = request;
        this.sink = sink;
    }

    /**
     * For a sink that is its own entry: the subclass implements
     * {@link CompletionSink}.
     *
     * @throws ClassCastException if it does not
     */
    protected LoopSubmission() {
        this.sink = (CompletionSink) this;
    }

    /** This sink's own entry, for {@code request}, or a new one for a sink that is not an entry. */
    static LoopSubmission of(Request request, CompletionSink sink) {
        if (sink instanceof LoopSubmission own && own.sink == sink) {
            own.request = request;
            own.holdsPermit = false;
            return own;
        }
        return new LoopSubmission(request, sink);
    }
}
