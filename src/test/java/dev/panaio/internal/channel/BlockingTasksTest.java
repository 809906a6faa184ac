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
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
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
     * queued behind it, but only up to {@link BlockingTasks.Window#MAX_AHEAD}
     * asked for and not yet run: asked for all at once, a read whose pages
     * were evicted before it ran waited at the disk behind all the others.
     */
    @Test
    void shouldAskForThePagesOfAtMostMaxAheadQueuedReadsAndReadEachOnce() throws Exception {
        int ahead = BlockingTasks.Window.MAX_AHEAD;
        int reads = 3 * ahead;
        Path path = TestData.writeFile(dir.resolve("misses"), reads * STRIDE, SEED);
        PageCache.evict(path);
        List<Runnable> pool = new ArrayList<>();
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        List<MemorySegment> buffers = new ArrayList<>();
        var window = new BlockingTasks.Window();
        try (AioFile file = AioFile.open(path, READ)) {
            BlockingTasks tasks = tasks(file, pool::add, window);
            try {
                for (int i = 0; i < reads; i++) {
                    MemorySegment buffer = Arena.ofAuto().allocate(BLOCK);
                    results.add(startRead(tasks, file, buffer, i * STRIDE));
                    buffers.add(buffer);
                }
                assertThat(pool).as("tasks handed to the pool").hasSize(reads);
                assertThat(window.readsWaiting()).as("reads waiting, none asked for").isEqualTo(reads);

                pool.removeFirst().run(); // asks for the pages of the reads behind it, then reads its own
                assertThat(results.getFirst().get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);
                assertThat(window.readsAhead()).as("reads asked for ahead, not yet run").isEqualTo(ahead);
                assertThat(window.readsWaiting()).as("reads still waiting, not asked for").isEqualTo(reads - 1 - ahead);
                // The kernel reads in the background: wait for the pages asked for, then see that no more came.
                awaitInCache(path, ahead + 1);
                Thread.sleep(200);
                assertThat(readsInCache(path, reads)).as("reads whose pages are in the page cache after the first "
                        + "task ran (its own and those it asked for)").isEqualTo(ahead + 1);

                while (!pool.isEmpty()) {
                    pool.removeFirst().run();
                }
                for (int i = 0; i < reads; i++) {
                    assertThat(results.get(i).get(10, TimeUnit.SECONDS)).as("read %d's count", i).isEqualTo(BLOCK);
                    assertThat(TestData.firstMismatch(buffers.get(i), i * STRIDE, SEED))
                            .as("read %d's first wrong byte", i).isEqualTo(-1);
                }
                assertThat(window.readsAhead()).as("reads asked for ahead once all ran").isZero();
                assertThat(window.readsWaiting()).as("reads waiting once all ran").isZero();
            } finally {
                while (!pool.isEmpty()) { // on failure: each still finishes
                    pool.removeFirst().run();
                }
            }
        }
    }

    /**
     * A read refused by the pool (closed, or no thread could be made) leaves
     * the window: it is no longer waiting, and does not count as asked for.
     */
    @Test
    void shouldTakeARefusedReadOutOfTheWindow() throws Exception {
        Path path = TestData.writeFile(dir.resolve("refused"), 4 * STRIDE, SEED);
        var window = new BlockingTasks.Window();
        List<Runnable> pool = new ArrayList<>();
        boolean[] refuse = {false};
        try (AioFile file = AioFile.open(path, READ)) {
            BlockingTasks tasks = tasks(file, task -> {
                if (refuse[0]) {
                    throw new java.util.concurrent.RejectedExecutionException("closed");
                }
                pool.add(task);
            }, window);
            CompletableFuture<Integer> accepted = startRead(tasks, file, Arena.ofAuto().allocate(BLOCK), 0);
            refuse[0] = true;
            CompletableFuture<Integer> refused = startRead(tasks, file, Arena.ofAuto().allocate(BLOCK), STRIDE);
            assertThat(window.readsWaiting()).as("reads waiting after one was refused").isEqualTo(1);
            assertThat(refused).failsWithin(10, TimeUnit.SECONDS).withThrowableOfType(ExecutionException.class)
                    .havingCause().isInstanceOf(AsynchronousCloseException.class);
            pool.removeFirst().run();
            assertThat(accepted.get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);
            assertThat(window.readsWaiting()).isZero();
            assertThat(window.readsAhead()).isZero();
        }
    }

    /**
     * A pool that queued a read and then threw (a {@code ThreadPoolExecutor}
     * that could make no thread for its queue): the read fails once, where it
     * was handed over, and the pool thread that takes it later does nothing,
     * so the caller's buffer, which the failure gave back, is not written.
     */
    @Test
    void shouldFinishAReadOnceWhenThePoolQueuesItAndThenThrows() throws Exception {
        Path path = TestData.writeFile(dir.resolve("queued-then-thrown"), STRIDE, SEED);
        var window = new BlockingTasks.Window();
        List<Runnable> pool = new ArrayList<>();
        // An Error as Thread.start throws when no thread can be made; not an OutOfMemoryError, which JUnit treats
        // as fatal to the whole run should the code under test let it out.
        Error noThread = new Error("test: unable to create native thread");
        try (AioFile file = AioFile.open(path, READ)) {
            BlockingTasks tasks = tasks(file, task -> {
                pool.add(task);
                throw noThread;
            }, window);
            MemorySegment buffer = Arena.ofAuto().allocate(BLOCK);
            CompletableFuture<Integer> read = startRead(tasks, file, buffer, 0);
            assertThat(read).as("the read, the pool having thrown").failsWithin(10, TimeUnit.SECONDS)
                    .withThrowableOfType(ExecutionException.class).havingCause().isSameAs(noThread);
            assertThat(window.readsWaiting()).as("reads waiting after the pool threw").isZero();
            assertThat(pool).as("tasks the pool queued").hasSize(1);
            pool.removeFirst().run(); // the pool thread that takes it after all
            assertThat(buffer.asByteBuffer().mismatch(java.nio.ByteBuffer.allocate(BLOCK)))
                    .as("first byte the late task wrote into the failed read's buffer").isEqualTo(-1);
            assertThat(window.readsAhead()).isZero();
        }
    }

    /** The file's read tasks on {@code pool}, with the window of reads asked for ahead {@code window}. */
    private static BlockingTasks tasks(AioFile file, Executor pool, BlockingTasks.Window window) {
        FileDescriptorHandle handle = SharedSecrets.fileAccess().handle(file);
        return new BlockingTasks(handle, pool, new SharedCounters(), new BufferedTransfer(handle), new KernelRequests(),
                window);
    }

    /** Starts a read of {@code buffer} at {@code position}, as FileIo does; its result. */
    private static CompletableFuture<Integer> startRead(BlockingTasks tasks, AioFile file, MemorySegment buffer,
                                                        long position) {
        var op = new ChannelCompletion.ToFuture();
        Request request = Request.read(file, buffer, position, "preadv2", RequestOptions.NONE);
        op.request = request; // as FileIo sets it
        tasks.runBlocking(op, request, 0, 0);
        return op.future();
    }

    /** Waits, up to 30 s, until the first pages of reads 0 to {@code count - 1} are all in the page cache. */
    private static void awaitInCache(Path path, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (readsInCache(path, count) < count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(readsInCache(path, count)).as("of the first %d reads, those whose pages came in", count)
                .isEqualTo(count);
    }

    /** How many of the first {@code reads} reads have their first page in the page cache. */
    private static int readsInCache(Path path, int reads) throws Exception {
        int pagesPerStride = (int) (STRIDE / Syscalls.getpagesize());
        boolean[] resident = PageCache.residency(path);
        int count = 0;
        for (int i = 0; i < reads; i++) {
            count += resident[i * pagesPerStride] ? 1 : 0;
        }
        return count;
    }
}
