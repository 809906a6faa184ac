package dev.panaio.bench;

/**
 * A way of doing the workload's I/O. One instance per engine, listed in
 * {@link Engines}; {@link #run} may be called several times (a sweep).
 *
 * <p>An in-process engine starts its workers, lets a {@link MeasuredWindow}
 * time them, and merges their {@link LatencyRecorder}s with
 * {@link EngineResult#of}. Thread-per-request engines over a
 * {@link java.nio.channels.FileChannel} extend {@link ThreadedChannelEngine};
 * callback engines over an {@link java.nio.channels.AsynchronousFileChannel}
 * extend {@link AsyncChannelEngine}: each then only says how it opens its
 * channel.
 */
public interface Engine {
    /** The name used with --engine and in the output. */
    String name();

    /** Null when the engine can run on this machine, else why not and how to fix it. */
    default String unavailableReason() {
        return null;
    }

    /**
     * Whether the engine runs in the harness's JVM. Such an engine gets one
     * unmeasured run on /dev/zero before its first real one, so that the JIT
     * compiler's work does not land in a measured window.
     */
    default boolean runsInThisJvm() {
        return true;
    }

    /**
     * Whether the verdict weighs panaio against this engine: another way of
     * doing the I/O that a user could pick instead. panaio's own levels are not
     * peers, nor is the C loop, which is panaio's loop written in C (a floor).
     */
    default boolean isPeer() {
        return true;
    }

    /**
     * Whether the engine can carry out {@code workload}. Every engine does the
     * plain reads and writes; wal needs an engine that knows how to make each
     * record durable, and some engines exist only for wal.
     */
    default boolean supports(Workload workload) {
        return workload != Workload.WAL;
    }

    /** A warning to print when the engine's numbers mean little for this run, or null. */
    default String caveat(RunSpec spec) {
        return null;
    }

    /** Runs the workload: warm-up, then the measured window. */
    EngineResult run(RunSpec spec) throws EngineException, InterruptedException;
}
