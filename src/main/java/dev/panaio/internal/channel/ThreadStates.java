package dev.panaio.internal.channel;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the JVM and the kernel say of another thread that Java calls
 * runnable: the CPU time it has used, and whether it sleeps in a system call.
 * Java's {@link Thread.State#RUNNABLE} covers a thread on a CPU, one waiting
 * for a CPU and one blocked in a system call; the handler watcher
 * ({@link HandlerChains}) must tell the last from the other two.
 *
 * <p>Every answer is a best effort: where the JVM does not measure a
 * thread's CPU time, or {@code /proc} cannot be read, the answer is
 * "unknown" (-1, or not asleep), never an exception.
 *
 * <p>Thread-safe.
 */
final class ThreadStates {
    private ThreadStates() {
    }

    /** The kernel's id of the calling thread, from {@code /proc/thread-self}; -1 if it cannot be read. */
    static long currentTid() {
        try {
            // A link to "<pid>/task/<tid>".
            Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            return Long.parseLong(link.getFileName().toString());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The CPU time {@code thread} has used, in nanoseconds; -1 where the JVM does not measure it. */
    static long cpuNanos(Thread thread) {
        ThreadMXBean threads = Cpu.THREADS;
        if (threads == null) {
            return -1;
        }
        try {
            return threads.getThreadCpuTime(thread.threadId());
        } catch (RuntimeException e) { // unsupported, or measuring turned off
            return -1;
        }
    }

    /**
     * Whether thread {@code tid} of this process sleeps in a system call
     * other than {@code futex}: the kernel function it sleeps in
     * ({@code /proc/self/task/<tid>/wchan}, "0" for a thread that runs or
     * waits for a CPU) names something else, a pipe or socket read, a disk
     * wait. A {@code futex} sleep is the JVM's own (a lock of its own, a
     * collection, a parked thread), which Java reports for what it is where
     * it matters. False if {@code tid} is -1 or the file cannot be read.
     */
    static boolean inSystemCall(long tid) {
        if (tid < 0) {
            return false;
        }
        String wchan;
        try {
            wchan = Files.readString(Path.of("/proc/self/task/" + tid + "/wchan")).strip();
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return !wchan.isEmpty() && !wchan.equals("0") && !wchan.contains("futex");
    }

    /** The JVM's thread figures, made on first use; null where it does not measure threads' CPU time. */
    private static final class Cpu {
        static final ThreadMXBean THREADS = threads();

        private static ThreadMXBean threads() {
            try {
                ThreadMXBean threads = ManagementFactory.getThreadMXBean();
                return threads.isThreadCpuTimeSupported() ? threads : null;
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }
    }
}
