package dev.panaio.bench;

import org.HdrHistogram.Histogram;

import java.util.Collection;

/**
 * What one engine achieved in the measured window.
 *
 * @param seconds    the measured window's real length
 * @param cpuSeconds CPU time (user + system) of the engine's process during the window
 * @param note       how the numbers were taken where it differs from the harness's own way, or null
 * @param submitP999Us p99.9 of the time the submitting thread spent inside the call that submits a request
 *                     (NaN where the engine does not measure it: blocking engines wait for the I/O itself)
 * @param submitMaxUs  the longest such stall
 * @param storageReadBytes bytes the engine's process caused to be read from storage during the window, or -1
 *                     where unknown (fio, the C loop: other processes)
 * @param pageCache    what the page cache held of the file during the run (buffered runs), or null
 * @param schedulerWait how long the process's threads waited for a CPU during the window, and the steal
 * @param stallTrace   where the submitting calls' time went (--stall-trace), or null
 */
public record EngineResult(String engine, long ops, double seconds, double p50Us, double p99Us, double p999Us,
                           double cpuSeconds, String note, double submitP999Us, double submitMaxUs,
                           long storageReadBytes, PageCacheWatch.Summary pageCache, SchedulerWait schedulerWait,
                           StallTrace.Summary stallTrace) {

    /** A result with no submit-stall figures. */
    public EngineResult(String engine, long ops, double seconds, double p50Us, double p99Us, double p999Us,
                        double cpuSeconds, String note) {
        this(engine, ops, seconds, p50Us, p99Us, p999Us, cpuSeconds, note, Double.NaN, Double.NaN, -1, null,
                SchedulerWait.UNKNOWN, null);
    }

    /** This result with what the page cache watch saw. */
    public EngineResult withPageCache(PageCacheWatch.Summary summary) {
        return new EngineResult(engine, ops, seconds, p50Us, p99Us, p999Us, cpuSeconds, note, submitP999Us,
                submitMaxUs, storageReadBytes, summary, schedulerWait, stallTrace);
    }

    /** This result with where its submitting calls' time went; null leaves it as it is. */
    public EngineResult withStallTrace(StallTrace.Summary trace) {
        if (trace == null) {
            return this;
        }
        return new EngineResult(engine, ops, seconds, p50Us, p99Us, p999Us, cpuSeconds, note, submitP999Us,
                submitMaxUs, storageReadBytes, pageCache, schedulerWait, trace);
    }

    /**
     * The share of the bytes read that the page cache answered: 1 minus the
     * bytes read from storage over the bytes asked for, clamped to 0..1 (so
     * readahead beyond what was asked counts against it); NaN where unknown.
     */
    public double hitRatio(int bs) {
        if (storageReadBytes < 0 || ops == 0) {
            return Double.NaN;
        }
        return Math.max(0, Math.min(1, 1 - storageReadBytes / ((double) ops * bs)));
    }

    /** This result with the stalls recorded while submitting, merged from the given recorders. */
    public EngineResult withSubmitStalls(Collection<LatencyRecorder> stalls) {
        Histogram all = new Histogram(LatencyRecorder.MAX_NANOS, 3);
        for (LatencyRecorder r : stalls) {
            all.add(r.measured());
        }
        if (all.getTotalCount() == 0) {
            return this;
        }
        return new EngineResult(engine, ops, seconds, p50Us, p99Us, p999Us, cpuSeconds, note,
                all.getValueAtPercentile(99.9) / 1e3, all.getMaxValue() / 1e3, storageReadBytes, pageCache,
                schedulerWait, stallTrace);
    }

    /**
     * Merges the recorders of one in-process run. What they kept of the
     * window must be what they recorded between its edges, as counted
     * ({@link MeasuredWindow.Timing}), give or take one record a recorder (a
     * record under way as the window opened or closed): else the harness
     * counted warm-up requests, or lost some, and the run fails rather than
     * report them.
     */
    public static EngineResult of(String engine, MeasuredWindow.Timing timing,
                                  Collection<LatencyRecorder> recorders) {
        Histogram all = new Histogram(LatencyRecorder.MAX_NANOS, 3);
        long ops = 0;
        for (LatencyRecorder r : recorders) {
            all.add(r.measured());
            ops += r.measuredOps();
        }
        if (ops < timing.fewestCompletions() - recorders.size() || ops > timing.mostCompletions() + recorders.size()) {
            throw new IllegalStateException(String.format(java.util.Locale.ROOT,
                    "%s: the recorders kept %,d completions of the window, but %,d to %,d were recorded in it "
                            + "(give or take %d)", engine, ops, timing.fewestCompletions(),
                    timing.mostCompletions(), recorders.size()));
        }
        return new EngineResult(engine, ops, timing.elapsedNanos() / 1e9,
                all.getValueAtPercentile(50) / 1e3, all.getValueAtPercentile(99) / 1e3,
                all.getValueAtPercentile(99.9) / 1e3, timing.cpuNanos() / 1e9, null, Double.NaN, Double.NaN,
                timing.storageReadBytes(), null, timing.schedulerWait(), null);
    }

    public double iops() {
        return seconds > 0 ? ops / seconds : 0;
    }

    public double mibPerSecond(int bs) {
        return iops() * bs / (1 << 20);
    }

    public double cpuMicrosPerOp() {
        return ops > 0 ? cpuSeconds * 1e6 / ops : Double.NaN;
    }
}
