package dev.panaio.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Where the time of the slow submitting calls went ({@code --stall-trace}):
 * around each call, the calling thread reads its own run-queue wait and CPU
 * time, and a call is split into the time it waited for a CPU, the time it ran,
 * and the rest (blocked or sleeping in the kernel, or the CPU taken by the
 * hypervisor). The calls over {@link #SLOW_NANOS} and over
 * {@link #VERY_SLOW_NANOS} are summed apart, so the figures say whether the
 * p99.9 and the maxima of the stall are the scheduler's or the call's own.
 *
 * <p>Run-queue wait is the second field of {@code /proc/thread-self/schedstat}
 * (CONFIG_SCHED_INFO), which the kernel adds to when the thread gets a CPU
 * back, so a wait that ended inside the call is counted in full. Its first
 * field, the CPU time, is brought up to date only at a scheduler tick or a
 * context switch (4 ms apart here), too coarse for a call of 20 µs: the CPU
 * time is {@code clock_gettime(CLOCK_THREAD_CPUTIME_ID)}, which the kernel
 * brings up to date when asked. Each thread opens its schedstat once and reads
 * it with {@code pread}; a reading is two system calls, whose mean cost is
 * measured and reported ({@link Summary#probeMeanNanos}), and which the call's
 * own time (the stall figure) does not include (except where a handler runs
 * inside the call, panaio-async-inline: the nested call's readings then fall
 * within the outer call, and both are counted). The run-queue wait is read
 * nearest the call, so a wait for a CPU outside it is counted against it only
 * in the margin of a system call's return; the CPU clock is read outside the
 * schedstat reads, whose CPU time (the least over a few empty pairs of
 * readings, per thread) is taken off each call's.
 *
 * <p>One trace per engine run: {@link #probe} is called by any thread, on its
 * own; {@link #close} once every request slot has stopped.
 */
final class StallTrace implements AutoCloseable {
    /** Calls longer than this are "slow": the stall's goal at the 99.9th percentile. */
    static final long SLOW_NANOS = 20_000;
    /** Calls longer than this are "very slow": the stall's goal for the maximum. */
    static final long VERY_SLOW_NANOS = 1_000_000;
    private static final Path SCHEDSTAT = Path.of("/proc/thread-self/schedstat");
    private static final int CALIBRATION_TRIES = 200;

    private final Arena arena = Arena.ofShared();
    private final ConcurrentLinkedQueue<Probe> opened = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<Probe> probes = ThreadLocal.withInitial(this::open);

    /** The calling thread's probe, opened on its first use. */
    Probe probe() {
        return probes.get();
    }

    private Probe open() {
        int fd;
        try {
            fd = Libc.open(SCHEDSTAT, Libc.O_RDONLY);
        } catch (IOException e) {
            fd = -1; // no /proc, or no CONFIG_SCHED_INFO: this thread's calls are counted as untraced
        }
        Probe probe = new Probe(fd, arena.allocate(64), arena.allocate(16));
        probe.cpuBiasNanos = probe.calibrate();
        opened.add(probe);
        return probe;
    }

    /** The merged calls, with the readings' CPU time as calibrated on each thread. */
    Summary summary(Collection<Calls> calls) {
        double bias = opened.stream().mapToLong(p -> p.cpuBiasNanos).average().orElse(Double.NaN);
        return Summary.of(calls, bias);
    }

    /** Closes every thread's descriptor and frees the buffers: no probe may be used afterwards. */
    @Override
    public void close() {
        for (Probe p; (p = opened.poll()) != null; ) {
            if (p.fd >= 0) {
                Libc.close(p.fd);
            }
        }
        arena.close();
    }

    /** One thread's readings: only that thread touches it. */
    static final class Probe {
        private final int fd;
        private final MemorySegment text;
        private final MemorySegment timespec;
        /** CPU time of the thread at the last reading, ns. */
        long cpuNanos;
        /** Run-queue wait of the thread at the last reading, ns. */
        long runDelayNanos;
        /** How many times the thread got a CPU, at the last reading. */
        long slices;
        /** CPU time of the readings themselves, counted between two readings: taken off a call's. */
        long cpuBiasNanos;

        private Probe(int fd, MemorySegment text, MemorySegment timespec) {
            this.fd = fd;
            this.text = text;
            this.timespec = timespec;
        }

        /**
         * Reads the thread's clocks just before a call: the run-queue wait
         * last, so that a wait for a CPU outside the call is counted against
         * it only in the margin of one system call's return.
         *
         * @return false where they cannot be read
         */
        boolean sampleBefore() {
            if (fd < 0) {
                return false;
            }
            cpuNanos = Libc.clockNanos(Libc.CLOCK_THREAD_CPUTIME_ID, timespec);
            return cpuNanos >= 0 && readSchedstat();
        }

        /** Reads the thread's clocks just after a call: the run-queue wait first. */
        boolean sampleAfter() {
            if (fd < 0 || !readSchedstat()) {
                return false;
            }
            cpuNanos = Libc.clockNanos(Libc.CLOCK_THREAD_CPUTIME_ID, timespec);
            return cpuNanos >= 0;
        }

        /**
         * The CPU time two readings around nothing take: the least of a few
         * tries, which a call's CPU time is reduced by (it is measured across
         * both schedstat reads).
         */
        private long calibrate() {
            long least = Long.MAX_VALUE;
            for (int i = 0; i < CALIBRATION_TRIES; i++) {
                if (!sampleBefore()) {
                    return 0;
                }
                long before = cpuNanos;
                if (!sampleAfter()) {
                    return 0;
                }
                least = Math.min(least, cpuNanos - before);
            }
            return least;
        }

        private boolean readSchedstat() {
            long n = Libc.pread(fd, text, 0);
            if (n <= 0) {
                return false;
            }
            // "on-CPU-ns run-delay-ns timeslices\n"
            long[] fields = {0, 0, 0};
            int field = 0;
            for (int i = 0; i < n && field < 3; i++) {
                byte b = text.get(ValueLayout.JAVA_BYTE, i);
                if (b >= '0' && b <= '9') {
                    fields[field] = fields[field] * 10 + (b - '0');
                } else {
                    field++;
                }
            }
            runDelayNanos = fields[1];
            slices = fields[2];
            return true;
        }
    }

    /** Sums over some calls. */
    static final class Bucket {
        long calls;
        long wallNanos;
        long runQueueNanos;
        long cpuNanos;
        /** Calls during which the thread left its CPU at least once. */
        long switched;

        void add(long wall, long runQueue, long cpu, boolean leftCpu) {
            calls++;
            wallNanos += wall;
            runQueueNanos += runQueue;
            cpuNanos += cpu;
            if (leftCpu) {
                switched++;
            }
        }

        void add(Bucket other) {
            calls += other.calls;
            wallNanos += other.wallNanos;
            runQueueNanos += other.runQueueNanos;
            cpuNanos += other.cpuNanos;
            switched += other.switched;
        }

        /** The call time neither waiting for a CPU nor on one: blocked, sleeping, or stolen by the hypervisor. */
        long otherNanos() {
            return wallNanos - runQueueNanos - cpuNanos;
        }
    }

    /**
     * One very slow call, its ends in {@link System#nanoTime} (the clock of
     * HotSpot's {@code -Xlog} decoration {@code timenanos}, so it can be set
     * beside a safepoint log).
     */
    record SlowCall(long startNanos, long endNanos, long runQueueNanos, long cpuNanos) {
    }

    /** The most very slow calls one request slot keeps. */
    static final int MAX_SLOW_CALLS_KEPT = 16;

    /** One request slot's measured calls: written by one thread at a time, merged once the run is over. */
    static final class Calls {
        final Bucket all = new Bucket();
        final Bucket slow = new Bucket();
        final Bucket verySlow = new Bucket();
        final List<SlowCall> verySlowCalls = new ArrayList<>();
        long untraced;
        long probeNanos;
        long probeCount;

        /**
         * Counts one call from {@code start} to {@code end} (nanoTime), of which its thread waited for a CPU
         * and ran as given; {@code slices}: how many times it got a CPU back.
         */
        void add(long start, long end, long runQueue, long cpu, long slices) {
            long wall = end - start;
            boolean leftCpu = slices > 0;
            all.add(wall, runQueue, cpu, leftCpu);
            if (wall > SLOW_NANOS) {
                slow.add(wall, runQueue, cpu, leftCpu);
            }
            if (wall > VERY_SLOW_NANOS) {
                verySlow.add(wall, runQueue, cpu, leftCpu);
                if (verySlowCalls.size() < MAX_SLOW_CALLS_KEPT) {
                    verySlowCalls.add(new SlowCall(start, end, runQueue, cpu));
                }
            }
        }
    }

    /**
     * The merged calls of a run; {@code probeMeanNanos} is the mean time of one reading of a thread's clocks,
     * {@code cpuBiasMeanNanos} the mean of the threads' calibrated CPU time of a pair of readings.
     */
    record Summary(Bucket all, Bucket slow, Bucket verySlow, long untraced, double probeMeanNanos,
                   double cpuBiasMeanNanos, List<SlowCall> verySlowCalls) {
        static Summary of(Collection<Calls> calls, double cpuBiasMeanNanos) {
            Bucket all = new Bucket();
            Bucket slow = new Bucket();
            Bucket verySlow = new Bucket();
            long untraced = 0;
            long probeNanos = 0;
            long probeCount = 0;
            List<SlowCall> kept = new ArrayList<>();
            for (Calls c : calls) {
                kept.addAll(c.verySlowCalls);
                all.add(c.all);
                slow.add(c.slow);
                verySlow.add(c.verySlow);
                untraced += c.untraced;
                probeNanos += c.probeNanos;
                probeCount += c.probeCount;
            }
            return new Summary(all, slow, verySlow, untraced,
                    probeCount > 0 ? (double) probeNanos / probeCount : Double.NaN, cpuBiasMeanNanos,
                    kept.stream().sorted(Comparator.comparingLong(SlowCall::startNanos)).toList());
        }
    }
}
