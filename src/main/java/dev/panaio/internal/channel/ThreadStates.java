package dev.panaio.internal.channel;

import dev.panaio.internal.sys.CallScratch;
import dev.panaio.internal.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;

/**
 * What the JVM and the kernel say of another thread that Java calls
 * runnable: the CPU time it has used, and whether, and where, the kernel has
 * it asleep. Java's {@link Thread.State#RUNNABLE} covers a thread on a CPU,
 * one waiting for a CPU and one blocked in a system call; the handler watcher
 * ({@link HandlerChains}) must tell the last from the other two.
 *
 * <p>Every answer is a best effort: where the JVM does not measure a
 * thread's CPU time, or {@code /proc} cannot be read, the answer is
 * "unknown" (-1, or {@link Sleep#NO}), never an exception. A thread's
 * {@code /proc} files are read with panaio's own system calls, not through
 * {@code java.nio.file}, whose default provider may be panaio's.
 *
 * <p>Thread-safe.
 */
final class ThreadStates {
    private ThreadStates() {
    }

    /** Where the kernel has a thread. */
    enum Sleep {
        /** Not asleep (running, or waiting for a CPU), or unknown. */
        NO,
        /**
         * Asleep in {@code futex}: where the JVM's own waits sleep (its
         * locks, a collection) as well as a native library's.
         */
        FUTEX,
        /** Asleep anywhere else: a pipe or socket read, a disk wait, a lock on a file. */
        ELSEWHERE
    }

    /** {@code open(2)}'s {@code O_CLOEXEC}, the same on x86_64 and aarch64; {@code O_RDONLY} is 0. */
    private static final int O_CLOEXEC = 02000000;
    /** Bytes read from a {@code /proc} file: a thread's {@code stat} line is about 300. */
    private static final int PROC_BYTES = 1024;
    /** Per thread: the buffer {@code /proc} files are read into. */
    private static final ThreadLocal<MemorySegment> BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(PROC_BYTES));

    /**
     * The kernel's id of the calling thread, the first field of
     * {@code /proc/thread-self/stat}; -1 for a virtual thread (its carrier
     * changes) or if it cannot be read.
     */
    static long currentTid() {
        if (Thread.currentThread().isVirtual()) {
            return -1;
        }
        String stat = readProc("/proc/thread-self/stat");
        int end = stat == null ? -1 : stat.indexOf(' ');
        try {
            return end > 0 ? Long.parseLong(stat, 0, end, 10) : -1;
        } catch (NumberFormatException e) {
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
     * Where the kernel has thread {@code tid} of this process: the state in
     * {@code /proc/self/task/<tid>/stat} (S or D: asleep), and, if asleep,
     * the kernel function it sleeps in ({@code wchan}), to tell a
     * {@code futex} wait. A kernel that prints no function (x86_64 kernels
     * before 5.16 print 0 for every thread) has every sleep counted as
     * {@link Sleep#ELSEWHERE}.
     */
    static Sleep sleepOf(long tid) {
        if (tid < 0) {
            return Sleep.NO;
        }
        if (!asleepPerStat(tid)) {
            return Sleep.NO;
        }
        String wchan = readProc("/proc/self/task/" + tid + "/wchan");
        if (wchan != null && wchan.contains("futex")) {
            return Sleep.FUTEX;
        }
        if (wchan != null && wchan.strip().equals("0") && !asleepPerStat(tid)) {
            return Sleep.NO; // woke between the two reads (a running thread's wchan is 0)
        }
        return Sleep.ELSEWHERE;
    }

    /** Whether {@code /proc/self/task/<tid>/stat} gives thread {@code tid}'s state as S or D. */
    private static boolean asleepPerStat(long tid) {
        String stat = readProc("/proc/self/task/" + tid + "/stat");
        // "tid (comm) S ...": the name may hold spaces and parentheses, so the state follows the last ')'.
        int close = stat == null ? -1 : stat.lastIndexOf(')');
        if (close < 0 || close + 2 >= stat.length()) {
            return false;
        }
        char state = stat.charAt(close + 2);
        return state == 'S' || state == 'D';
    }

    /** The start of {@code /proc} file {@code name} as ASCII, or null if it cannot be read. */
    private static String readProc(String name) {
        CallScratch scratch = CallScratch.get();
        long fd = Syscalls.open(scratch.errno, scratch.path(name), O_CLOEXEC, 0);
        if (fd < 0) {
            return null;
        }
        try {
            MemorySegment buffer = BUFFER.get();
            long n = Syscalls.read(scratch.errno, (int) fd, buffer, buffer.byteSize());
            return n <= 0 ? null
                    : new String(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
        } finally {
            Syscalls.close(scratch.closeErrno, (int) fd);
        }
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
