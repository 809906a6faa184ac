package dev.panaio.internal.engine;

import java.util.concurrent.CompletableFuture;

/** Completes a CompletableFuture: the engine's own API. A {@code -errno} result completes it exceptionally. */
public final class FutureSink implements CompletionSink {
    private final Request request;
    private final CompletableFuture<Integer> future = new CompletableFuture<>();

    /** A sink for {@code request}, whose description names it in a failure. */
    public FutureSink(Request request) {
        this.request = request;
    }

    /** The future the result goes to. */
    public CompletableFuture<Integer> future() {
        return future;
    }

    @Override
    public void finish(long result) {
        if (result < 0) {
            future.completeExceptionally(request.failure((int) -result));
        } else {
            future.complete((int) result);
        }
    }

    @Override
    public void fail(Throwable error) {
        future.completeExceptionally(error);
    }
}
