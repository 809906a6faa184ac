package dev.panaio.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The harness's own threads that work during an in-process engine's measured
 * window (the page cache watch): their CPU time there is the harness's, so
 * {@link MeasuredWindow} takes it out of the process's CPU time it gives the
 * engine. fio and the C loop run in processes of their own, where it was
 * never counted. Only the CPU time: the run-queue wait and thread runs
 * ({@link SchedulerWait}) still count the watch's thread, whose share of
 * them is small now that its samples are spaced by their cost.
 *
 * <p>Thread-safe.
 */
final class HarnessThreads {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final Set<Thread> WORKING = ConcurrentHashMap.newKeySet();

    private HarnessThreads() {
    }

    /** {@code thread} works from now on: added before it starts. */
    static void add(Thread thread) {
        WORKING.add(thread);
    }

    /** {@code thread} has stopped working: removed once it has ended. */
    static void remove(Thread thread) {
        WORKING.remove(thread);
    }

    /**
     * The CPU time the working threads have used so far, in nanoseconds (an
     * unstarted one counts nothing). A thread that ends between two readings
     * takes what it used out of the difference, so the harness stops its
     * working threads only after the window's end is read (the watch starts
     * before the warm-up and stops after the window).
     */
    static long cpuNanos() {
        long sum = 0;
        for (Thread thread : WORKING) {
            long cpu = THREADS.getThreadCpuTime(thread.threadId());
            if (cpu > 0) {
                sum += cpu;
            }
        }
        return sum;
    }
}
