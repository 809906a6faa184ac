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
 * inside a call that does no I/O is, on a loaded machine, mostly this.
 *
 * <p>Run-queue wait is the second field of {@code /proc/self/task/*&#47;schedstat}
 * (time runnable but not running, in ns; CONFIG_SCHED_INFO), summed over the
 * threads alive at both edges of the window. Steal is the {@code steal} column
 * of the {@code cpu} line of {@code /proc/stat}, for the whole machine. Each is
 * -1 where the kernel does not give it.
 */
record SchedulerWait(long runQueueNanos, long stealTicks) {
    private static final Path TASKS = Path.of("/proc/self/task");
    private static final Path STAT = Path.of("/proc/stat");

    /** The counters now; the thread ids' run-queue waits are kept apart so that a delta uses common threads. */
    static Sample sample() {
        Map<String, Long> byThread = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                try {
                    List<String> lines = Files.readAllLines(task.resolve("schedstat"));
                    if (!lines.isEmpty()) {
                        byThread.put(task.getFileName().toString(), Long.parseLong(lines.get(0).split(" ")[1]));
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
    record Sample(Map<String, Long> runQueueByThread, long stealTicks) {
        /** What happened between {@code this} and a later {@code end}. */
        SchedulerWait until(Sample end) {
            long wait = -1;
            if (runQueueByThread != null && end.runQueueByThread != null && !end.runQueueByThread.isEmpty()) {
                wait = 0;
                for (var e : end.runQueueByThread.entrySet()) {
                    wait += e.getValue() - runQueueByThread.getOrDefault(e.getKey(), 0L);
                }
            }
            long steal = stealTicks >= 0 && end.stealTicks >= 0 ? end.stealTicks - stealTicks : -1;
            return new SchedulerWait(wait, steal);
        }
    }

    /** Unknown. */
    static final SchedulerWait UNKNOWN = new SchedulerWait(-1, -1);
}
