package dev.panaio.internal.stats;

import dev.panaio.AioEngineMXBean;
import dev.panaio.AioEngineStats;

import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The MXBean of one engine: each attribute read takes a fresh
 * {@link AioEngineStats} snapshot (a few dozen loads), so nothing is computed
 * while no one looks.
 *
 * <p>Thread-safe.
 */
public final class EngineMXBean implements AioEngineMXBean {
    private final String name;
    private final int threads;
    private final IntSupplier capacity;
    private final Supplier<AioEngineStats> stats;

    /** The MXBean of the engine named {@code name}, reading {@code stats} on each attribute read. */
    public EngineMXBean(String name, int threads, IntSupplier capacity, Supplier<AioEngineStats> stats) {
        this.name = name;
        this.threads = threads;
        this.capacity = capacity;
        this.stats = stats;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public int getThreads() {
        return threads;
    }

    @Override
    public int getCapacity() {
        return capacity.getAsInt();
    }

    @Override
    public long getRequestsSubmitted() {
        return stats.get().requestsSubmitted();
    }

    @Override
    public long getRequestsCompleted() {
        return stats.get().requestsCompleted();
    }

    @Override
    public long getInFlight() {
        return stats.get().inFlight();
    }

    @Override
    public long getQueued() {
        return stats.get().queued();
    }

    @Override
    public long getIoSubmitCalls() {
        return stats.get().ioSubmitCalls();
    }

    @Override
    public double getMeanBatch() {
        return stats.get().meanBatch();
    }

    @Override
    public long getInlineHits() {
        return stats.get().inlineHits();
    }

    @Override
    public long getInlineMisses() {
        return stats.get().inlineMisses();
    }

    @Override
    public long getPoolRuns() {
        return stats.get().poolRuns();
    }

    @Override
    public long getBounceCopiedBytes() {
        return stats.get().bounceCopiedBytes();
    }

    @Override
    public long getBackpressureWaits() {
        return stats.get().backpressureWaits();
    }

    @Override
    public long getEagainRetries() {
        return stats.get().eagainRetries();
    }

    @Override
    public long getPartialSubmits() {
        return stats.get().partialSubmits();
    }
}
