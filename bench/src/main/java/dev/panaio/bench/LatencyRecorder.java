package dev.panaio.bench;

import org.HdrHistogram.Histogram;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * Latencies and completions of one worker, thread or request slot: written by
 * one thread at a time, merged once the run is over.
 *
 * <p>A recorder records during the warm-up too, not only in the measured
 * window, so that the code an engine runs in the window is the code the JIT
 * compiled during the warm-up. With a "record only while measuring" branch,
 * the JIT compiled the warm-up's loops without the recording, and threw that
 * code away when the window opened, compiling again inside it
 * (docs/BENCHMARKS.md, fifteenth run). Instead the recorder starts afresh at
 * each new {@link MeasuredWindow#epoch() epoch} of its window: the warm-up
 * moves to a new epoch every {@link MeasuredWindow#REHEARSAL_NANOS}, which
 * keeps that path compiled in too, and the window opens on the last one.
 */
public final class LatencyRecorder {
    /** Longest latency kept apart; anything above is counted as this. */
    static final long MAX_NANOS = TimeUnit.MINUTES.toNanos(10);

    private static final VarHandle RECORDED;

    static {
        try {
            RECORDED = MethodHandles.lookup().findVarHandle(LatencyRecorder.class, "recorded", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final MeasuredWindow window;
    private final Histogram histogram = new Histogram(MAX_NANOS, 3);
    /** What {@link #histogram} and {@link #ops} hold: the window's epoch when they were started. */
    private int epoch;
    private long ops;
    /** Every record since the run began, across epochs: what the warm-up counts ({@link #recorded()}). */
    @SuppressWarnings("unused") // through RECORDED
    private long recorded;

    /** A recorder of {@code window}'s; see {@link MeasuredWindow#completions()}, {@link MeasuredWindow#stalls()}. */
    LatencyRecorder(MeasuredWindow window) {
        this.window = window;
        this.epoch = window.epoch();
    }

    /**
     * Counts one completed request that took {@code nanos} from submission;
     * nothing once the window closed. Returns true if it started afresh
     * first, for a new epoch: zeroing the histogram (about 250 KB) took some
     * microseconds, which a caller that times its next request from a clock
     * read before this call must not count.
     */
    public boolean record(long nanos) {
        int now = window.epoch();
        boolean fresh = false;
        if (now != epoch) {
            if (now == MeasuredWindow.CLOSED) {
                return false;
            }
            histogram.reset();
            ops = 0;
            epoch = now;
            fresh = true;
        }
        histogram.recordValue(Math.max(0, Math.min(nanos, MAX_NANOS)));
        ops++;
        // Read by the window's thread while this one records: opaque, so that the count is never torn.
        RECORDED.setOpaque(this, (long) RECORDED.getOpaque(this) + 1);
        return fresh;
    }

    /** Records made so far, warm-up included; read from any thread while the recorder's own records. */
    long recorded() {
        return (long) RECORDED.getOpaque(this);
    }

    /** The measured window's latencies: empty when this recorder recorded nothing in it. Once the run is over. */
    Histogram measured() {
        return epoch == window.measuredEpoch() ? histogram : EMPTY;
    }

    /** The measured window's count; as {@link #measured()}. */
    long measuredOps() {
        return epoch == window.measuredEpoch() ? ops : 0;
    }

    private static final Histogram EMPTY = new Histogram(MAX_NANOS, 3);
}
