package dev.panaio.bench;

import org.HdrHistogram.Histogram;

import java.util.concurrent.TimeUnit;

/**
 * Latencies and completions of one worker, thread or request slot: written by
 * one thread at a time, merged once the run is over.
 */
public final class LatencyRecorder {
    /** Longest latency kept apart; anything above is counted as this. */
    static final long MAX_NANOS = TimeUnit.MINUTES.toNanos(10);

    final Histogram histogram = new Histogram(MAX_NANOS, 3);
    long ops;

    /** Counts one completed request that took {@code nanos} from submission. */
    public void record(long nanos) {
        histogram.recordValue(Math.max(0, Math.min(nanos, MAX_NANOS)));
        ops++;
    }
}
