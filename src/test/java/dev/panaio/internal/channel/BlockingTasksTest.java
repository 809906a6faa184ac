package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.RequestOptions;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.stats.SharedCounters;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A file's reads that missed the page cache, on the blocking pool: the pool
 * is replaced by a list the test runs by hand, and the page cache is asked
 * ({@code mincore}) which of the reads' pages the kernel was asked for.
 */
class BlockingTasksTest {
    private static final int SEED = 43;
    private static final int BLOCK = 4096;
    /** Far enough apart that the kernel's reading of one read's pages never brings in another's. */
    private static final long STRIDE = 256 << 10;

    @TempDir
    Path dir;

    /**
     * Each task, as it starts, asks the kernel for the pages of the reads
     * queued behind it, but only up to {@link BlockingTasks#MAX_AHEAD} asked for
     * and not yet run: asked for all at once, a read whose pages were evicted
     * before it ran waited at the disk behind all the others.
     */
    @Test
    void shouldAskForThePagesOfAtMostMaxAheadQueuedReadsAndReadEachOnce() throws Exception {
        int reads = 3 * BlockingTasks.MAX_AHEAD;
        Path path = TestData.writeFile(dir.resolve("misses"), reads * STRIDE, SEED);
        PageCache.evict(path);
        int aheadBefore = BlockingTasks.readsAhead();
        List<Runnable> pool = new ArrayList<>();
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        List<MemorySegment> buffers = new ArrayList<>();
        try (AioFile file = AioFile.open(path, READ)) {
            FileDescriptorHandle handle = SharedSecrets.fileAccess().handle(file);
            BlockingTasks tasks = new BlockingTasks(handle, pool::add, new SharedCounters(),
                    new BufferedTransfer(handle), new KernelRequests());
            for (int i = 0; i < reads; i++) {
                var op = new ChannelCompletion.ToFuture();
                MemorySegment buffer = Arena.ofAuto().allocate(BLOCK);
                Request request = Request.read(file, buffer, i * STRIDE, "preadv2", RequestOptions.NONE);
                op.request = request; // as FileIo sets it
                tasks.runBlocking(op, request, 0, 0);
                results.add(op.future());
                buffers.add(buffer);
            }
            assertThat(pool).as("tasks handed to the pool").hasSize(reads);

            pool.removeFirst().run(); // asks for the pages of the reads behind it, then reads its own
            assertThat(results.getFirst().get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);
            assertThat(settledReadsInCache(path, reads)).as("reads whose pages are in the page cache after the "
                    + "first task ran (its own and those it asked for)")
                    .isEqualTo(BlockingTasks.MAX_AHEAD + 1);
            assertThat(BlockingTasks.readsAhead() - aheadBefore).as("reads asked for ahead, not yet run")
                    .isEqualTo(BlockingTasks.MAX_AHEAD);

            while (!pool.isEmpty()) {
                pool.removeFirst().run();
            }
            for (int i = 0; i < reads; i++) {
                assertThat(results.get(i).get(10, TimeUnit.SECONDS)).as("read %d's count", i).isEqualTo(BLOCK);
                assertThat(TestData.firstMismatch(buffers.get(i), i * STRIDE, SEED)).as("read %d's first wrong byte", i)
                        .isEqualTo(-1);
            }
            assertThat(BlockingTasks.readsAhead()).as("reads asked for ahead once all ran").isEqualTo(aheadBefore);
        }
    }

    /**
     * How many of the reads' first pages are in the page cache, once the
     * count has not changed for 200 ms (the kernel reads what it was asked
     * for in the background), at most 10 s.
     */
    private static int settledReadsInCache(Path path, int reads) throws Exception {
        int pagesPerStride = (int) (STRIDE / Syscalls.getpagesize());
        int last = -1;
        int same = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (same < 4 && System.nanoTime() < deadline) {
            boolean[] resident = PageCache.residency(path);
            int count = 0;
            for (int i = 0; i < reads; i++) {
                count += resident[i * pagesPerStride] ? 1 : 0;
            }
            same = count == last ? same + 1 : 0;
            last = count;
            Thread.sleep(50);
        }
        return last;
    }
}
