package dev.panaio.internal.engine;

import dev.panaio.internal.memory.HandedOverMemory;

/**
 * Settles a request's {@link HandedOverMemory} (copy back, give back the use or
 * bounce buffer) before the result goes on to the next sink, so that the
 * caller's memory is released exactly once, whatever the outcome.
 */
public final class MemorySink extends LoopSubmission implements CompletionSink {
    private final HandedOverMemory memory;
    private final CompletionSink next;

    /** Settles {@code memory}, then tells {@code next}. */
    public MemorySink(HandedOverMemory memory, CompletionSink next) {
        this.memory = memory;
        this.next = next;
    }

    @Override
    public void finish(long result) {
        try {
            memory.settle(result);
        } catch (RuntimeException | Error copyBackFailed) {
            next.fail(copyBackFailed); // the memory was released in settle's finally; the caller hears of it once
            return;
        }
        next.finish(result);
    }

    /** Settles the memory on the pool thread, before the engine's close can end, then hands on. */
    @Override
    public void finishOffPool(long result) {
        try {
            memory.settle(result);
        } catch (RuntimeException | Error copyBackFailed) {
            next.failOffPool(copyBackFailed);
            return;
        }
        next.finishOffPool(result);
    }

    @Override
    public void failOffPool(Throwable error) {
        memory.release();
        next.failOffPool(error);
    }

    @Override
    public void fail(Throwable error) {
        memory.release();
        next.fail(error);
    }
}
