package dev.panaio.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Watches the data file's pages in the page cache during one engine's run, on
 * a thread of its own: how many are cached, dirty and under writeback (every
 * {@value #PERIOD_MILLIS} ms at most, less often as a sample's cost requires),
 * and, for {@code --uncached}, evicts them every {@value #PERIOD_MILLIS} ms.
 *
 * <p><b>Eviction</b> is {@code posix_fadvise(POSIX_FADV_DONTNEED)} over the
 * whole file: once before the engine starts, then once a period, so that a page
 * a read brought in stays at most a period before it is dropped again and the
 * next read of it misses. The kernel drops only clean pages that nobody has
 * locked; the figures show what the evictions achieved rather than assume it.
 *
 * <p><b>Residency</b> comes from {@code cachestat(2)} (Linux 6.5+: cached,
 * dirty and writeback pages of the file, in one call), sampled just before an
 * eviction, so it is the most the cache held between two evictions. Where
 * cachestat is missing (ENOSYS) or refused, from {@code mincore(2)} on a
 * read-only shared mapping of the file (residency only: no dirty or writeback
 * counts). {@link Summary#source()} says which; the system property
 * {@value #SOURCE_PROPERTY}{@code =mincore} asks for the fallback.
 *
 * <p><b>What it costs.</b> A cachestat call walks the file's entries in the
 * page cache, and what that costs depends on them: on this project's machine,
 * 5 to 14 ms of CPU a call for the benchmarks' 1 GiB data file beside a
 * random-write run. Taken every period, samples kept 0.4 of a CPU busy beside
 * such a run and 0.6 beside an append run, on a machine of two, preempting the
 * very calls the run times. So a sample waits after the one before at least
 * {@value #SAMPLE_COST_FACTOR} times as long as that one took: the watch uses
 * at most about 2 % of a CPU for its samples, whatever the file's size.
 * Evictions keep their period. The watch's CPU time in the measured window is
 * not counted as the engine's ({@link HarnessThreads}).
 *
 * <p>Started and closed by the harness's controlling thread.
 */
final class PageCacheWatch implements AutoCloseable {
    /** The eviction period, and the shortest between two samples: 100 fadvise calls a second at most. */
    static final long PERIOD_MILLIS = 10;
    /** A sample that took t waits at least this many times t after its start before the next one. */
    static final long SAMPLE_COST_FACTOR = 50;
    /**
     * Replaces {@link #SAMPLE_COST_FACTOR}: how cli-test makes the watch
     * sample every period and, with {@link #SAMPLE_EXTRA_CPU_PROPERTY}, keep
     * most of a CPU busy, to check that its CPU time is not counted as the
     * engine's.
     */
    static final String SAMPLE_COST_FACTOR_PROPERTY = "panaio.bench.sampleCostFactor";
    private static final long PAGE = 4096;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * What was seen over the run.
     *
     * @param residentMean     mean fraction of the file's pages cached, over the samples
     * @param residentMax      the largest such fraction
     * @param dirtyMaxPages    most dirty pages of the file at once, or -1 where unknown (mincore)
     * @param writebackMaxPages most pages under writeback at once, or -1 where unknown
     * @param evictions        fadvise calls made
     * @param samples          residency samples taken
     * @param threadCpuNanos   CPU time of the watching thread, warm-up included (not counted as the engine's)
     * @param source           {@code cachestat} or {@code mincore}
     */
    record Summary(double residentMean, double residentMax, long dirtyMaxPages, long writebackMaxPages,
                   long evictions, long samples, long threadCpuNanos, String source) {
    }

    private final Path file;
    private final boolean evict;
    private final int fd;
    private final long pages;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scratch;
    private final Thread thread;
    private volatile boolean stop;
    private volatile IOException failure;

    /** Set to {@code mincore} to use the fallback where cachestat works too: how cli-test covers it. */
    static final String SOURCE_PROPERTY = "panaio.bench.pageCacheSource";

    private boolean useCachestat = !"mincore".equals(System.getProperty(SOURCE_PROPERTY));

    /**
     * CPU milliseconds each sample spends on top of its call, as a costly
     * walk of a large file's pages would: how cli-test checks that samples
     * are spaced by their cost, where its small files sample in microseconds.
     */
    static final String SAMPLE_EXTRA_CPU_PROPERTY = "panaio.bench.sampleExtraCpuMillis";
    private final long sampleExtraCpuNanos =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong(SAMPLE_EXTRA_CPU_PROPERTY, 0));
    private final long sampleCostFactor = Long.getLong(SAMPLE_COST_FACTOR_PROPERTY, SAMPLE_COST_FACTOR);
    private MemorySegment mapping;
    private MemorySegment vector;
    private long samples;
    private double residentSum;
    private double residentMax;
    private long dirtyMax;
    private long writebackMax;
    private long evictions;
    private long cpuNanos;

    private PageCacheWatch(Path file, long size, boolean evict) throws IOException {
        this.file = file;
        this.evict = evict;
        this.pages = Math.max(1, (size + PAGE - 1) / PAGE);
        this.fd = Libc.open(file, Libc.O_RDONLY);
        this.scratch = arena.allocate(Libc.CACHESTAT_RANGE_SIZE + Libc.CACHESTAT_SIZE, 8);
        this.thread = Thread.ofPlatform().daemon().name("page-cache-watch").unstarted(this::loop);
    }

    /**
     * Starts watching {@code file} ({@code size} bytes); with {@code evict},
     * drops its pages first, before returning, and then once a period.
     */
    static PageCacheWatch start(Path file, long size, boolean evict) throws IOException {
        PageCacheWatch watch = new PageCacheWatch(file, size, evict);
        try {
            if (evict) {
                watch.evictOnce();
            }
        } catch (IOException e) {
            watch.release();
            throw e;
        }
        HarnessThreads.add(watch.thread);
        watch.thread.start();
        return watch;
    }

    private void loop() {
        long start = THREADS.getCurrentThreadCpuTime();
        long nextSample = System.nanoTime();
        try {
            while (!stop) {
                long now = System.nanoTime();
                if (now - nextSample >= 0) {
                    long cpu = THREADS.getCurrentThreadCpuTime();
                    sample(); // its CPU time (not its wall time, which waits for a CPU on a busy machine) sets the next
                    nextSample = now + Math.max(TimeUnit.MILLISECONDS.toNanos(PERIOD_MILLIS),
                            sampleCostFactor * (THREADS.getCurrentThreadCpuTime() - cpu));
                }
                if (evict) {
                    evictOnce();
                    TimeUnit.MILLISECONDS.sleep(PERIOD_MILLIS);
                } else {
                    TimeUnit.NANOSECONDS.sleep(Math.max(0, nextSample - System.nanoTime()));
                }
            }
        } catch (IOException e) {
            failure = e;
        } catch (InterruptedException e) {
            // close() asked us to stop
        } finally {
            cpuNanos = THREADS.getCurrentThreadCpuTime() - start;
        }
    }

    private void evictOnce() throws IOException {
        Libc.posixFadvise(fd, 0, 0, Libc.POSIX_FADV_DONTNEED, file);
        evictions++;
    }

    private void sample() throws IOException {
        long cached;
        long dirty = -1;
        long writeback = -1;
        Libc.CacheCounts counts = null;
        if (useCachestat) {
            try {
                counts = Libc.cachestat(fd, scratch, file);
            } catch (IOException e) {
                counts = null; // refused (EPERM on some kernels): mincore still answers for our own file
            }
            useCachestat = counts != null;
        }
        if (counts != null) {
            cached = counts.cached();
            dirty = counts.dirty();
            writeback = counts.writeback();
        } else {
            cached = mincoreResident();
        }
        if (sampleExtraCpuNanos > 0) {
            long until = THREADS.getCurrentThreadCpuTime() + sampleExtraCpuNanos;
            while (THREADS.getCurrentThreadCpuTime() < until) {
                Thread.onSpinWait();
            }
        }
        samples++;
        double fraction = Math.min(1.0, cached / (double) pages);
        residentSum += fraction;
        residentMax = Math.max(residentMax, fraction);
        dirtyMax = Math.max(dirtyMax, dirty);
        writebackMax = Math.max(writebackMax, writeback);
    }

    private long mincoreResident() throws IOException {
        long length = pages * PAGE;
        if (mapping == null) {
            mapping = Libc.mapForMincore(fd, length, file);
            vector = arena.allocate(pages);
        }
        Libc.mincore(mapping, length, vector, file);
        long resident = 0;
        for (long i = 0; i < pages; i++) {
            resident += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
        }
        return resident;
    }

    /** Stops the thread and waits for it; {@link #summary()} then says what it saw. */
    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.interrupt();
        thread.join();
        HarnessThreads.remove(thread);
        release();
    }

    /**
     * What the watch saw, once closed.
     *
     * @throws EngineException if a page cache call failed during the run
     */
    Summary summary() throws EngineException {
        if (failure != null) {
            throw new EngineException("watching the page cache: " + failure.getMessage(), failure);
        }
        return new Summary(samples == 0 ? Double.NaN : residentSum / samples, residentMax,
                useCachestat ? dirtyMax : -1, useCachestat ? writebackMax : -1, evictions, samples, cpuNanos,
                useCachestat ? "cachestat" : "mincore");
    }

    private boolean released;

    private void release() {
        if (released) {
            return;
        }
        released = true;
        if (mapping != null) {
            Libc.munmap(mapping, pages * PAGE);
        }
        Libc.close(fd);
        arena.close();
    }

    /** One line for progress output. */
    static String describe(Summary s) {
        return String.format(Locale.ROOT, "page cache (%s): resident mean %.2f%%, max %.2f%% of the file%s%s",
                s.source(), s.residentMean() * 100, s.residentMax() * 100,
                s.dirtyMaxPages() >= 0 ? String.format(Locale.ROOT, "; dirty max %.1f MiB, writeback max %.1f MiB",
                        s.dirtyMaxPages() * PAGE / 1048576.0, s.writebackMaxPages() * PAGE / 1048576.0) : "",
                s.evictions() > 0 ? "; " + s.evictions() + " evictions" : "");
    }
}
