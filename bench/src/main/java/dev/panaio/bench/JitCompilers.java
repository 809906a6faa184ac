package dev.panaio.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The JVM's JIT compiler threads, and a warm-up that lasts until they have
 * settled. On this project's two CPUs they compiled for seconds into a run's
 * measured window (about two fifths of the machine in one second recorded
 * there), and more for some engines than for others, so the window compared
 * code still being compiled (docs/BENCHMARKS.md, fourteenth run). A user's
 * service runs compiled code.
 *
 * <p>The threads are HotSpot's {@code C1 CompilerThreadN} and
 * {@code C2 CompilerThreadN}, which {@code /proc/self/task/*&#47;comm} shows
 * cut to 15 characters; their CPU time is the first field of each thread's
 * {@code schedstat} (CONFIG_SCHED_INFO). The JVM starts and stops compiler
 * threads as the work needs (UseDynamicNumberOfCompilerThreads): the CPU of
 * one that ends between two samples is not counted, so a figure is at most
 * what was used, and a period can pass for quiet that was not quite. Where
 * the JVM has no thread of those names (an interpreter-only JVM, another
 * compiler), nothing is known and the warm-up ends when asked.
 */
final class JitCompilers {
    /** How often the warm-up's end looks at the threads. */
    static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** Quiet: at most this much compiling in a {@link #PERIOD_NANOS}, 5 % of one CPU. */
    static final long QUIET_CPU_NANOS = TimeUnit.MILLISECONDS.toNanos(25);
    /**
     * Settled: quiet for this many periods' length in a row. After one,
     * compiling came back in the windows of panaio-async more than after two;
     * four did no better than two (docs/BENCHMARKS.md, fourteenth run).
     */
    static final int QUIET_PERIODS = 2;

    private static final Path TASKS = Path.of("/proc/self/task");
    private static final List<String> NAMES = List.of("C1 CompilerThre", "C2 CompilerThre");

    private JitCompilers() {
    }

    /**
     * What the warm-up's end found: how much longer than asked it lasted for
     * the compilers to settle, whether they did, the requests completed in
     * the quiet stretch that ended it, and the compilers' CPU time in the
     * measured window; each -1 where /proc cannot tell.
     */
    record Summary(long settleNanos, boolean settled, long quietRequests, long windowCpuNanos) {
        static final Summary UNKNOWN = new Summary(-1, false, -1, -1);

        Summary withWindowCpu(long cpuNanos) {
            return new Summary(settleNanos, settled, quietRequests, cpuNanos);
        }
    }

    /** The CPU time of each compiler thread alive now, by thread id; null where /proc does not give it. */
    static Map<String, Long> sample() {
        Map<String, Long> cpu = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                try {
                    if (NAMES.contains(Files.readString(task.resolve("comm")).strip())) {
                        String schedstat = Files.readString(task.resolve("schedstat"));
                        cpu.put(task.getFileName().toString(), Long.parseLong(schedstat.split(" ")[0]));
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile, or no CONFIG_SCHED_INFO
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return cpu;
    }

    /** The compiler threads' CPU time between two samples; -1 if either is unknown. */
    static long cpuBetween(Map<String, Long> before, Map<String, Long> after) {
        if (before == null || after == null) {
            return -1;
        }
        long sum = 0;
        for (var e : after.entrySet()) {
            sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        }
        return sum;
    }

    /**
     * Settled also needs this many completions in the quiet stretch. A loop
     * the JIT threw away (a deoptimization: a branch or a type it had not
     * seen) runs in code that profiles it until its back-edges reach
     * HotSpot's {@code Tier4BackEdgeThreshold} (40,000), and compiling it
     * again comes only then. Compiling the profiling code takes the
     * compilers a few milliseconds, which a quiet stretch hides; at 10,000
     * requests a second a loop is then seconds on its way back, and in the
     * fifteenth run {@code ThreadedChannelEngine.work} was compiled again
     * 4.3 s into panaio-vthreads' window at queue depth 1 (docs/BENCHMARKS.md).
     * A stretch of 100,000 completions, each at least one back-edge of the
     * engine's loop, holds that loop's compiling again if it was pending.
     * An engine slower than 12,500 requests a second needs no more than
     * {@link #LONGEST_QUIET_NANOS} of quiet: the CPU a request costs matters
     * less beside a device that slow, and waiting for more would make a
     * run of each engine at a few thousand requests a second last most of
     * a minute longer.
     */
    static final long QUIET_COMPLETIONS = 100_000;
    /** Quiet for this long is enough, however few requests completed meanwhile. */
    static final long LONGEST_QUIET_NANOS = TimeUnit.SECONDS.toNanos(8);

    /** The warm-up's wait; true if the run failed meanwhile. */
    @FunctionalInterface
    interface Pause {
        boolean await(long nanos) throws InterruptedException;
    }

    /**
     * Ends a warm-up of {@code warmupNanos} once the compiler threads have
     * been quiet ({@link #QUIET_CPU_NANOS} a {@link #PERIOD_NANOS} at most)
     * in every period of its last {@link #QUIET_PERIODS} periods' length (all
     * of a shorter warm-up, looked at in that many parts) and at least
     * {@link #QUIET_COMPLETIONS} requests completed in that quiet stretch
     * (or it lasted {@link #LONGEST_QUIET_NANOS}),
     * waiting up to {@code maxSettleNanos} more for that, one period at a
     * time, the last cut to what is left. Returns {@link Summary#UNKNOWN} at
     * once if the run fails ({@code pause} says so), and when no compiler
     * thread is found.
     */
    static Summary warmUp(String engine, long warmupNanos, long maxSettleNanos, Pause pause, LongSupplier completed)
            throws InterruptedException {
        long period = Math.min(warmupNanos, QUIET_PERIODS * PERIOD_NANOS) / QUIET_PERIODS;
        long tailLeft = period * QUIET_PERIODS;
        long quietNeeded = tailLeft;
        if (pause.await(warmupNanos - tailLeft)) {
            return Summary.UNKNOWN;
        }
        long settle = 0;
        long quietFor = 0;
        boolean saidBusy = false;
        boolean saidCounting = false;
        Map<String, Long> before = sample();
        long quietSince = completed.getAsLong();
        while (true) {
            if (pause.await(period)) {
                return Summary.UNKNOWN;
            }
            if (tailLeft > 0) {
                tailLeft -= period;
            } else {
                settle += period;
            }
            Map<String, Long> after = sample();
            long done = completed.getAsLong();
            long cpu = cpuBetween(before, after);
            if (cpu < 0 || (before.isEmpty() && after.isEmpty())) {
                Progress.say("  " + engine + ": no JIT compiler thread found in /proc/self/task: the warm-up ends now");
                return Summary.UNKNOWN;
            }
            before = after;
            boolean quiet = cpu <= QUIET_CPU_NANOS * period / PERIOD_NANOS;
            if (quiet) {
                quietFor += period;
            } else {
                quietFor = 0;
                quietSince = done;
            }
            if (quietFor >= quietNeeded && (done - quietSince >= QUIET_COMPLETIONS
                    || quietFor >= LONGEST_QUIET_NANOS)) {
                if (settle > 0) {
                    Progress.say(String.format(Locale.ROOT, "  %s: the JIT settled after %.1f s more of warm-up",
                            engine, settle / 1e9));
                }
                return new Summary(settle, true, done - quietSince, -1);
            }
            if (tailLeft > 0) {
                continue; // the warm-up's own tail: its next period is asked for anyway
            }
            if (settle >= maxSettleNanos) {
                Progress.say(String.format(Locale.ROOT, "  %s: the JIT has not settled (%.0f ms of CPU in the last "
                        + "%.2f s, %,d requests since it was last busy) after %.1f s more of warm-up: measuring "
                        + "anyway", engine, cpu / 1e6, period / 1e9, done - quietSince, settle / 1e9));
                return new Summary(settle, false, done - quietSince, -1);
            }
            if (quiet && quietFor >= quietNeeded && !saidCounting) {
                saidCounting = true;
                Progress.say(String.format(Locale.ROOT, "  %s: %,d requests since the JIT was last busy, of %,d: "
                        + "warming up until they are done, at most %.1f s more", engine, done - quietSince,
                        QUIET_COMPLETIONS, (maxSettleNanos - settle) / 1e9));
            } else if (!quiet && !saidBusy) {
                saidBusy = true;
                Progress.say(String.format(Locale.ROOT, "  %s: the JIT still compiles (%.0f ms of CPU in the last "
                        + "%.2f s): warming up until it settles, at most %.1f s more", engine, cpu / 1e6,
                        period / 1e9, (maxSettleNanos - settle) / 1e9));
            }
            period = Math.min(PERIOD_NANOS, maxSettleNanos - settle);
        }
    }
}
