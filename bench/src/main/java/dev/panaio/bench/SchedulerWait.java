package dev.panaio.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How long the process's threads waited for a CPU, and how much CPU the
 * hypervisor took, over the measured window: the two ways a thread that
 * waits for nothing can still be stalled. A caller's multi-millisecond stall
 * inside a call that does no I/O is, on a loaded machine, mostly this. And
 * how often the process's threads were put on a CPU: divided by the
 * requests, how many times a request woke a thread up, each of which costs
 * what {@code scripts/bench wakeup} measures.
 *
 * <p>Run-queue wait is the second field of {@code /proc/self/task/*&#47;schedstat}
 * (time runnable but not running, in ns; CONFIG_SCHED_INFO), summed over the
 * threads alive at both edges of the window; runs are its third field (times
 * the thread was put on a CPU: once per wake-up, and once more after each
 * preemption), summed the same way. Steal is the {@code steal} column
 * of the {@code cpu} line of {@code /proc/stat}, for the whole machine. Each is
 * -1 where the kernel does not give it. And the garbage collector's pauses,
 * which stop every Java thread of the process ({@link GcPauses}), and the JIT
 * compilers' CPU time, taken from the same two CPUs ({@link JitCompilers}).
 */
record SchedulerWait(long runQueueNanos, long threadRuns, long stealTicks, GcPauses.Summary gcPauses,
                     JitCompilers.Summary jit) {
    private static final Path TASKS = Path.of("/proc/self/task");
    private static final Path STAT = Path.of("/proc/stat");

    /** The counters now; each thread's are kept apart so that a delta uses common threads. */
    static Sample sample() {
        Map<String, long[]> byThread = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                try {
                    List<String> lines = Files.readAllLines(task.resolve("schedstat"));
                    if (!lines.isEmpty()) {
                        String[] fields = lines.get(0).split(" ");
                        byThread.put(task.getFileName().toString(),
                                new long[] {Long.parseLong(fields[1]), Long.parseLong(fields[2])});
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile, or no CONFIG_SCHED_INFO
                }
            }
        } catch (IOException | RuntimeException e) {
            byThread = null;
        }
        long steal = -1;
        try {
            String cpu = Files.readAllLines(STAT).get(0);
            String[] fields = cpu.trim().split("\\s+");
            if (fields[0].equals("cpu") && fields.length > 8) {
                steal = Long.parseLong(fields[8]);
            }
        } catch (IOException | RuntimeException e) {
            // not Linux's /proc
        }
        return new Sample(byThread, steal);
    }

    /** One reading. */
    record Sample(Map<String, long[]> byThread, long stealTicks) {
        private static final long[] NEW_THREAD = {0, 0};

        /** What happened between {@code this} and a later {@code end}. */
        SchedulerWait until(Sample end) {
            long wait = -1;
            long runs = -1;
            if (byThread != null && end.byThread != null && !end.byThread.isEmpty()) {
                wait = 0;
                runs = 0;
                for (var e : end.byThread.entrySet()) {
                    long[] before = byThread.getOrDefault(e.getKey(), NEW_THREAD);
                    wait += e.getValue()[0] - before[0];
                    runs += e.getValue()[1] - before[1];
                }
            }
            long steal = stealTicks >= 0 && end.stealTicks >= 0 ? end.stealTicks - stealTicks : -1;
            return new SchedulerWait(wait, runs, steal, GcPauses.Summary.UNKNOWN, JitCompilers.Summary.UNKNOWN);
        }
    }

    /** This with the garbage collector's pauses over the same window. */
    SchedulerWait withGcPauses(GcPauses.Summary pauses) {
        return new SchedulerWait(runQueueNanos, threadRuns, stealTicks, pauses, jit);
    }

    /** This with what the JIT compilers did before and in the same window. */
    SchedulerWait withJit(JitCompilers.Summary compilers) {
        return new SchedulerWait(runQueueNanos, threadRuns, stealTicks, gcPauses, compilers);
    }

    /** Unknown. */
    static final SchedulerWait UNKNOWN =
            new SchedulerWait(-1, -1, -1, GcPauses.Summary.UNKNOWN, JitCompilers.Summary.UNKNOWN);
}
