package dev.panaio.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The clock of one in-process run: a warm-up, then the measured window, then
 * a stop. Workers keep issuing requests until {@link #stopped()}, and record
 * every completion and submitting call in their window's recorders
 * ({@link #completions()}, {@link #stalls()}), which keep what the measured
 * window saw ({@link LatencyRecorder}); the controlling thread takes the wall
 * and CPU time at the window's edges.
 */
public final class MeasuredWindow {
    private static final int WARMUP = 0;
    private static final int MEASURE = 1;
    private static final int STOP = 2;

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /**
     * Wall time and process CPU time of the measured window (less what the
     * harness's own working threads used, {@link HarnessThreads}), and the bytes the
     * process's threads caused to be read from storage in it ({@code read_bytes}
     * of /proc/self/io: page cache misses and their readahead; -1 where the
     * kernel does not account task I/O), and how long its threads waited for a
     * CPU and the hypervisor stole it; and the completions the window's
     * recorders counted between its edges, a check of what they kept
     * ({@link EngineResult#of}): at least {@code fewestCompletions}, counted
     * from just after the window opened, and at most
     * {@code mostCompletions}, counted from just before. Counting the
     * recorders one by one takes time, in which some of them record.
     */
    public record Timing(long elapsedNanos, long cpuNanos, long storageReadBytes, SchedulerWait schedulerWait,
                         long fewestCompletions, long mostCompletions) {
    }

    private static final Path PROC_SELF_IO = Path.of("/proc/self/io");

    /** read_bytes of /proc/self/io, which sums every thread of the process, living or gone; -1 if unknown. */
    static long storageReadBytes() {
        try {
            for (String line : Files.readAllLines(PROC_SELF_IO)) {
                if (line.startsWith("read_bytes:")) {
                    return Long.parseLong(line.substring("read_bytes:".length()).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            // no task I/O accounting (CONFIG_TASK_IO_ACCOUNTING) or no /proc
        }
        return -1;
    }

    /**
     * How much longer than asked a warm-up may last for the JIT compilers to
     * settle ({@link JitCompilers#warmUp}), in seconds: property
     * {@code panaio.bench.jitSettleSeconds}, 20 by default; 0 ends every
     * warm-up when asked, as before the fourteenth run.
     */
    private static final long MAX_JIT_SETTLE_NANOS =
            (long) (Double.parseDouble(System.getProperty("panaio.bench.jitSettleSeconds", "20")) * 1e9);

    /** The epoch of a window that has closed: recorders record nothing more. */
    static final int CLOSED = -1;
    /**
     * How often the warm-up moves to a new epoch, each recorder starting
     * afresh on its next record: the path taken when the window opens is
     * then one the JIT has seen taken.
     */
    static final long REHEARSAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private volatile int phase = WARMUP;
    private volatile int epoch;
    /** The measured window's epoch; set by the controlling thread as it opens. */
    private int measuredEpoch = CLOSED;
    /** The recorders of completions, which the warm-up counts ({@link #completed()}). */
    private final List<LatencyRecorder> completions = new CopyOnWriteArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch failed = new CountDownLatch(1);

    /** The loop of a single-threaded engine, run on its own worker thread. */
    @FunctionalInterface
    public interface WorkerLoop {
        /**
         * Issues and completes requests until the window stops.
         *
         * @param window       the run's clock
         * @param latencies    where each completion's latency goes (warm-up included: the recorder keeps the window's)
         * @param submitStalls where each submitting call's time goes (likewise)
         * @throws IOException a failure of the run
         */
        void run(MeasuredWindow window, LatencyRecorder latencies, LatencyRecorder submitStalls) throws IOException;
    }

    /**
     * Runs {@code loop} on one platform thread named {@code threadName}
     * through a window of its own: the engine's result, with the latencies
     * and submit stalls the loop recorded.
     */
    public static EngineResult runOneWorker(String engine, String threadName, RunSpec spec, WorkerLoop loop)
            throws EngineException, InterruptedException {
        MeasuredWindow window = new MeasuredWindow();
        LatencyRecorder recorder = window.completions();
        LatencyRecorder submitStalls = window.stalls();
        Thread worker = Thread.ofPlatform().name(threadName).unstarted(() -> {
            try {
                loop.run(window, recorder, submitStalls);
            } catch (IOException e) {
                window.fail(e);
            }
        });
        worker.setUncaughtExceptionHandler(window.failureHandler());
        worker.start();
        Timing timing = window.run(engine, spec);
        worker.join();
        window.rethrow();
        return EngineResult.of(engine, timing, List.of(recorder)).withSubmitStalls(List.of(submitStalls));
    }

    /** A recorder of completions for one worker, thread or request slot, counted by the warm-up. */
    public LatencyRecorder completions() {
        LatencyRecorder recorder = new LatencyRecorder(this);
        completions.add(recorder);
        return recorder;
    }

    /** A recorder of the time submitting calls took, for one worker, thread or request slot. */
    public LatencyRecorder stalls() {
        return new LatencyRecorder(this);
    }

    /** What recorders compare their own epoch with; {@link #CLOSED} once the window closed. */
    int epoch() {
        return epoch;
    }

    /** The measured window's epoch, once it has opened; else {@link #CLOSED}. */
    int measuredEpoch() {
        return measuredEpoch;
    }

    /** Completions recorded so far, warm-up included, by every worker. */
    long completed() {
        long sum = 0;
        for (LatencyRecorder r : completions) {
            sum += r.recorded();
        }
        return sum;
    }

    /**
     * Whether the window is open. Only for work done in the window alone
     * (--stall-trace): a branch on it in an engine's hot path is compiled for
     * the warm-up and thrown away at the window's opening.
     */
    public boolean measuring() {
        return phase == MEASURE;
    }

    /** Whether workers must stop issuing requests. */
    public boolean stopped() {
        return phase == STOP;
    }

    /** A worker failed: the run stops and {@link #rethrow()} reports the first failure. */
    public void fail(Throwable t) {
        failure.compareAndSet(null, t);
        phase = STOP;
        failed.countDown();
    }

    /**
     * Runs the warm-up and the measured window on the calling thread while the
     * workers run, then tells them to stop. Returns early if a worker fails.
     */
    public Timing run(String engine, RunSpec spec) throws InterruptedException {
        // The harness's own state for the run, made before it starts (two latency histograms of about 250 KB for
        // each request slot or worker thread: 130 MB at qd 256), goes to the old generation now, during the
        // warm-up, by the full collection GcPauses.start runs. Left young, it is copied by the young collections of
        // the measured window, each of which then stops every thread for tens of milliseconds (33 to 52 ms
        // measured at qd 256): the harness's pause, not the engine's.
        try (GcPauses gc = GcPauses.start()) {
            JitCompilers.Summary jit = JitCompilers.Summary.UNKNOWN;
            if (spec.warmupNanos() > 0) {
                Progress.say(String.format(Locale.ROOT, "  %s: warming up %.1f s", engine,
                        spec.warmupNanos() / 1e9));
                jit = JitCompilers.warmUp(engine, spec.warmupNanos(), MAX_JIT_SETTLE_NANOS, this::rehearse,
                        this::completed);
                if (failed.getCount() == 0) {
                    return new Timing(0, 0, -1, SchedulerWait.UNKNOWN, 0, 0);
                }
            }
            Progress.say(String.format(Locale.ROOT, "  %s: measuring %.1f s", engine, spec.measureNanos() / 1e9));
            long read0 = storageReadBytes();
            SchedulerWait.Sample sched0 = SchedulerWait.sample();
            Map<String, Long> jit0 = JitCompilers.sample();
            long cpu0 = OS.getProcessCpuTime() - HarnessThreads.cpuNanos();
            long t0 = System.nanoTime();
            long before = completed();
            measuredEpoch = epoch + 1;
            epoch = measuredEpoch;
            long after = completed();
            phase = MEASURE;
            failed.await(spec.measureNanos(), TimeUnit.NANOSECONDS);
            // Before the workers are told to stop: a thread-per-request engine's threads end soon after, and a
            // thread that has ended is missing from the sample.
            SchedulerWait sched = sched0.until(SchedulerWait.sample());
            epoch = CLOSED;
            long done1 = completed();
            phase = STOP;
            long t1 = System.nanoTime();
            long cpu1 = OS.getProcessCpuTime() - HarnessThreads.cpuNanos();
            long read1 = storageReadBytes();
            jit = jit.withWindowCpu(JitCompilers.cpuBetween(jit0, JitCompilers.sample()));
            return new Timing(t1 - t0, cpu1 - cpu0, read0 < 0 || read1 < 0 ? -1 : read1 - read0,
                    sched.withGcPauses(gc.summary(t0, t1)).withJit(jit), done1 - after, done1 - before);
        }
    }

    /**
     * The warm-up's wait: {@code nanos} long, a new epoch every
     * {@link #REHEARSAL_NANOS}. Returns true at once if a worker failed.
     */
    private boolean rehearse(long nanos) throws InterruptedException {
        long end = System.nanoTime() + nanos;
        for (long left = nanos; left > 0; left = end - System.nanoTime()) {
            if (failed.await(Math.min(left, REHEARSAL_NANOS), TimeUnit.NANOSECONDS)) {
                return true;
            }
            epoch++;
        }
        return false;
    }

    /** Throws the first worker failure, if any. */
    public void rethrow() throws EngineException {
        Throwable t = failure.get();
        if (t != null) {
            throw EngineException.from(t);
        }
    }

    /** Reports a worker's failure, on its own thread. */
    public Thread.UncaughtExceptionHandler failureHandler() {
        return (thread, t) -> fail(t);
    }
}
