package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.RequestOptions;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.stats.SharedCounters;
import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.TestData;
import dev.panaio.testing.ThreadIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The queue of a file's buffered writes: one drain task per file, runs of
 * contiguous writes in one pwritev2, a short run shared out in order. The
 * pool is replaced by a list the test runs by hand, on its own thread, so
 * that what one drain does is seen whole, in that thread's I/O accounting.
 */
class WriteQueueTest {
    private static final int SEED = 41;

    @TempDir
    Path dir;

    /** One queued 4 KiB write of the data TestData puts at {@code position}, in GC-managed memory. */
    private static CompletableFuture<Integer> queue(WriteQueue queue, AioFile file, long position, boolean vectored) {
        var op = new ChannelCompletion.ToFuture();
        MemorySegment src = Arena.ofAuto().allocate(4096);
        TestData.fill(src, position, SEED);
        Request request = vectored
                ? Request.writeVectored(file, new MemorySegment[] {src.asSlice(0, 1000), src.asSlice(1000)}, position,
                "pwritev2", RequestOptions.NONE)
                : Request.write(file, src, position, "pwritev2", RequestOptions.NONE);
        op.request = request; // as FileIo sets it
        queue.add(op, request, 0, 0);
        return op.future();
    }

    @Test
    void shouldMakeAHundredContiguousQueuedWritesInTwoPwritev2CallsFromOneTask() throws Exception {
        assumeTrue(ThreadIo.available(), "no per-thread I/O accounting here");
        Path path = dir.resolve("run");
        List<Runnable> pool = new ArrayList<>();
        SharedCounters counters = new SharedCounters();
        try (AioFile file = AioFile.open(path, CREATE, READ, WRITE)) {
            WriteQueue queue = new WriteQueue(pool::add, counters,
                    new BufferedTransfer(SharedSecrets.fileAccess().handle(file)), new KernelRequests());
            List<CompletableFuture<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                results.add(queue(queue, file, i * 4096L, i % 3 == 0)); // some of two buffers: their buffers count
            }
            assertThat(pool).as("drain tasks handed to the pool for one file").hasSize(1);
            assertThat(counters.poolRuns.sum()).isEqualTo(100);
            long calls = ThreadIo.writeCallsHere();
            pool.removeFirst().run();
            // WriteQueue.MAX_RUN writes, then the other 36: two system calls.
            assertThat(ThreadIo.writeCallsHere() - calls).as("write calls the drain made").isEqualTo(2);
            assertThat(pool).isEmpty();
            for (CompletableFuture<Integer> result : results) {
                assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(4096);
            }
        }
        MemorySegment written = MemorySegment.ofArray(Files.readAllBytes(path));
        assertThat(written.byteSize()).isEqualTo(100 * 4096L);
        assertThat(TestData.firstMismatch(written, 0, SEED)).isEqualTo(-1);
    }

    /**
     * A pool that queued a file's drain task and then threw (a
     * {@code ThreadPoolExecutor} that could make no thread for its queue): the
     * queued writes fail, and that task, run later, does nothing; so the next
     * write's drain is the file's only one, and a write after it starts none.
     */
    @Test
    void shouldKeepOneDrainPerFileWhenThePoolQueuesOneAndThenThrows() throws Exception {
        Path path = dir.resolve("queued-then-thrown");
        List<Runnable> pool = new ArrayList<>();
        boolean[] fail = {true};
        try (AioFile file = AioFile.open(path, CREATE, READ, WRITE)) {
            WriteQueue queue = new WriteQueue(task -> {
                pool.add(task);
                if (fail[0]) {
                    throw new Error("test: unable to create native thread"); // not an OOM: fatal to JUnit
                }
            }, new SharedCounters(), new BufferedTransfer(SharedSecrets.fileAccess().handle(file)),
                    new KernelRequests());
            CompletableFuture<Integer> failed = queue(queue, file, 0, false);
            assertThat(failed).isCompletedExceptionally();
            fail[0] = false;
            CompletableFuture<Integer> second = queue(queue, file, 4096, false);
            assertThat(pool).as("drain tasks: the one queued before the throw, the second write's").hasSize(2);
            pool.removeFirst().run(); // the stale one, taken by a pool thread after all
            CompletableFuture<Integer> third = queue(queue, file, 8192, false);
            assertThat(pool).as("drain tasks once a third write was queued: still only the second write's").hasSize(1);
            pool.removeFirst().run();
            assertThat(pool).isEmpty();
            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(4096);
            assertThat(third.get(10, TimeUnit.SECONDS)).isEqualTo(4096);
        }
        MemorySegment written = MemorySegment.ofArray(Files.readAllBytes(path));
        assertThat(TestData.firstMismatch(written.asSlice(4096), 4096, SEED)).as("the two writes' bytes").isEqualTo(-1);
        assertThat(written.asSlice(0, 4096).mismatch(MemorySegment.ofArray(new byte[4096])))
                .as("the failed write's bytes: none written").isEqualTo(-1);
    }

    @Test
    void shouldMakeWritesThatDoNotContinueEachOtherOneByOne() throws Exception {
        assumeTrue(ThreadIo.available(), "no per-thread I/O accounting here");
        Path path = dir.resolve("apart");
        List<Runnable> pool = new ArrayList<>();
        try (AioFile file = AioFile.open(path, CREATE, READ, WRITE)) {
            WriteQueue queue = new WriteQueue(pool::add, new SharedCounters(),
                    new BufferedTransfer(SharedSecrets.fileAccess().handle(file)), new KernelRequests());
            List<CompletableFuture<Integer>> results = new ArrayList<>();
            for (int i = 9; i >= 0; i--) {
                results.add(queue(queue, file, i * 4096L, false)); // backwards: none continues the one before
            }
            long calls = ThreadIo.writeCallsHere();
            pool.removeFirst().run();
            assertThat(ThreadIo.writeCallsHere() - calls).isEqualTo(10);
            for (CompletableFuture<Integer> result : results) {
                assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(4096);
            }
        }
        assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)), 0, SEED)).isEqualTo(-1);
    }

    @Test
    void shouldFailTheWritesStillQueuedWhenTheChannelsCloseBeginsAndMakeNone() throws Exception {
        assumeTrue(ThreadIo.available(), "no per-thread I/O accounting here");
        Path path = dir.resolve("closed");
        List<Runnable> pool = new ArrayList<>();
        KernelRequests inKernel = new KernelRequests();
        try (AioFile file = AioFile.open(path, CREATE, READ, WRITE)) {
            WriteQueue queue = new WriteQueue(pool::add, new SharedCounters(),
                    new BufferedTransfer(SharedSecrets.fileAccess().handle(file)), inKernel);
            List<CompletableFuture<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                results.add(queue(queue, file, i * 4096L, false));
            }
            inKernel.closeAndAwait(true); // nothing counted in yet: returns at once, as the channel's close would
            long calls = ThreadIo.writeCallsHere();
            pool.removeFirst().run();
            assertThat(ThreadIo.writeCallsHere() - calls).as("write calls after the close began").isZero();
            for (CompletableFuture<Integer> result : results) {
                assertThat(result).failsWithin(10, TimeUnit.SECONDS).withThrowableThat()
                        .havingCause().isInstanceOf(AsynchronousCloseException.class);
            }
            assertThat(inKernel.inKernel()).isZero();
        }
        assertThat(Files.size(path)).isZero();
    }

    @Test
    void shouldShareAShortRunOutInOrderAndGiveTheRestTheirOwnResults() throws Exception {
        // In a child whose file size limit (RLIMIT_FSIZE) stops the run's pwritev2 part-way through its third write.
        ChildJvm.Outcome run = ChildJvm.onClassPath(ShortRunCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED"), dir.resolve("short").toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.stdout()).as(run.toString()).contains("results=[4096, 4096, 1808, EFBIG]");
    }
}
