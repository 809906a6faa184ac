package dev.panaio;

import dev.panaio.internal.engine.Request;
import dev.panaio.internal.engine.CompletionSink;
import dev.panaio.internal.access.SharedSecrets;
import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.util.Set;
import java.nio.file.Files;
import java.nio.channels.FileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.ByteBuffer;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AioEngineTest {
    private static final int SEED = 11;

    @TempDir
    Path dir;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void closeArena() {
        arena.close();
    }

    @Test
    void shouldReadConcurrentlyFromManyThreadsWithEveryFutureCompletedOnce() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 4 << 20, SEED);
        try (AioEngine engine = AioEngine.builder().capacity(64).build();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            int reads = 4000;
            MemorySegment buffers = arena.allocate(reads * 4096L, 4096);
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            List<java.util.concurrent.Future<CompletableFuture<Integer>>> submitted = new ArrayList<>();
            for (int i = 0; i < reads; i++) {
                int n = i;
                submitted.add(threads.submit(() -> engine.read(file, buffers.asSlice(n * 4096L, 4096),
                        (n % 1024) * 4096L)));
            }
            for (var f : submitted) {
                futures.add(f.get());
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            for (int i = 0; i < reads; i++) {
                assertThat(futures.get(i).join()).isEqualTo(4096);
                assertThat(TestData.firstMismatch(buffers.asSlice(i * 4096L, 4096), (i % 1024) * 4096L, SEED))
                        .isEqualTo(-1);
            }
            assertThat(engine.outstanding()).isZero();
        }
    }

    @Test
    void shouldWriteThenFsyncThroughTheEngine() throws Exception {
        Path path = TestData.writeFile(dir.resolve("w"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, WRITE)) {
            MemorySegment src = arena.allocate(1000);
            TestData.fill(src, 0, SEED + 1);
            assertThat(engine.write(file, src, 0).get(10, TimeUnit.SECONDS)).isEqualTo(1000);
            assertThat(engine.fsync(file).get(10, TimeUnit.SECONDS)).isZero();
            assertThat(engine.fdatasync(file).get(10, TimeUnit.SECONDS)).isZero();
            MemorySegment dst = arena.allocate(1000);
            assertThat(engine.read(file, dst, 0).get(10, TimeUnit.SECONDS)).isEqualTo(1000);
            assertThat(TestData.firstMismatch(dst, 0, SEED + 1)).isEqualTo(-1);
        }
    }

    @Test
    void shouldWriteAndReadAVectorOfAlignedArenaBuffersOnADirectFileAsOneKernelRequestEach() throws Exception {
        Path path = TestData.writeFile(dir.resolve("v"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioArena aio = AioArena.open();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment[] srcs = {aio.allocate(4096, 4096), aio.allocate(8192, 4096), aio.allocate(4096, 4096)};
            long at = 8192;
            for (MemorySegment src : srcs) {
                TestData.fill(src, at, SEED + 1);
                at += src.byteSize();
            }
            long before = engine.stats().requestsSubmitted();
            assertThat(engine.writeVectored(file, srcs, 8192).get(10, TimeUnit.SECONDS)).isEqualTo(16384);
            assertThat(engine.stats().requestsSubmitted() - before).as("kernel requests for one vectored write")
                    .isEqualTo(1);

            MemorySegment[] dsts = {aio.allocate(4096, 4096), aio.allocate(4096, 4096), aio.allocate(8192, 4096)};
            before = engine.stats().requestsSubmitted();
            assertThat(engine.readVectored(file, dsts, 8192, RequestOptions.NONE).get(10, TimeUnit.SECONDS))
                    .isEqualTo(16384);
            assertThat(engine.stats().requestsSubmitted() - before).as("kernel requests for one vectored read")
                    .isEqualTo(1);
            at = 8192;
            for (MemorySegment dst : dsts) {
                assertThat(TestData.firstMismatch(dst, at, SEED + 1)).as("buffer at %d", at).isEqualTo(-1);
                at += dst.byteSize();
            }
            assertThat(engine.stats().bounceCopiedBytes()).as("AioArena memory goes in place").isZero();
        }
    }

    @Test
    void shouldBounceAVectorOfACallersArenaAndStopShortAtEndOfFile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("eof"), 10_000, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, WRITE)) {
            // Odd sizes on a buffered file: the request goes through one bounce of the total, copied back in order.
            MemorySegment[] dsts = {arena.allocate(3000), arena.allocate(5001), arena.allocate(4000)};
            dsts[2].fill((byte) 0x5a);
            long before = engine.stats().requestsSubmitted();
            assertThat(engine.readVectored(file, dsts, 100).get(10, TimeUnit.SECONDS)).isEqualTo(9900);
            assertThat(engine.stats().requestsSubmitted() - before).isEqualTo(1);
            assertThat(engine.stats().bounceCopiedBytes()).isEqualTo(12001);
            assertThat(TestData.firstMismatch(dsts[0], 100, SEED)).isEqualTo(-1);
            assertThat(TestData.firstMismatch(dsts[1], 3100, SEED)).isEqualTo(-1);
            assertThat(TestData.firstMismatch(dsts[2].asSlice(0, 1899), 8101, SEED)).isEqualTo(-1);
            assertThat(dsts[2].get(java.lang.foreign.ValueLayout.JAVA_BYTE, 1899)).as("past end of file, untouched")
                    .isEqualTo((byte) 0x5a);
            assertThat(engine.readVectored(file, dsts, 10_000).get(10, TimeUnit.SECONDS)).as("at end of file")
                    .isZero();

            MemorySegment[] srcs = {arena.allocate(7), arena.allocate(1), arena.allocate(4092)};
            TestData.fill(srcs[0], 20_000, SEED + 2);
            TestData.fill(srcs[1], 20_007, SEED + 2);
            TestData.fill(srcs[2], 20_008, SEED + 2);
            assertThat(engine.writeVectored(file, srcs, 20_000).get(10, TimeUnit.SECONDS)).isEqualTo(4100);
            MemorySegment back = arena.allocate(4100);
            assertThat(engine.read(file, back, 20_000).get(10, TimeUnit.SECONDS)).isEqualTo(4100);
            assertThat(TestData.firstMismatch(back, 20_000, SEED + 2)).isEqualTo(-1);
        }
    }

    @Test
    void shouldHoldEveryAioArenaOfAVectorUntilItsReadCompletes() throws Exception {
        Path path = TestData.writeFile(dir.resolve("held"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.builder().capacity(1).build();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); EventFd gate = EventFd.open();
             AioArena first = AioArena.open()) {
            AioArena second = AioArena.open();
            CompletableFuture<Integer> poll = engine.poll(gate, 1); // holds the engine's one slot until written
            MemorySegment[] dsts = {first.allocate(4096, 4096), second.allocate(4096, 4096)};
            CompletableFuture<Integer> read = engine.readVectored(file, dsts, 0);
            assertThatThrownBy(second::close).as("the second buffer's arena, while its read waits")
                    .isInstanceOf(IllegalStateException.class);
            assertThat(first.inFlight()).isEqualTo(1);
            gate.write(1);
            assertThat(poll.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(8192);
            assertThat(TestData.firstMismatch(dsts[1], 4096, SEED)).isEqualTo(-1);
            assertThat(first.inFlight()).isZero();
            second.close(); // given back once the read completed
        }
    }

    @Test
    void shouldHandADirectWriteThatWouldBlockInIoSubmitToThePoolAndLandItsData() throws Exception {
        Path path = Files.createFile(dir.resolve("extending"));
        try (AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment src = arena.allocate(8192, 4096);
            TestData.fill(src, 0, SEED + 3);
            // Extending the file needs a block allocation: with the RWF_NOWAIT the engine adds, ext4 answers EAGAIN
            // instead of blocking io_submit, and the write is made on the pool, once.
            assertThat(engine.write(file, src, 0).get(10, TimeUnit.SECONDS)).isEqualTo(8192);
            assertThat(engine.stats().poolRuns()).as("writes handed to the pool").isEqualTo(1);
            assertThat(engine.stats().requestsCompleted()).isEqualTo(1);
            // An overwrite of written blocks needs no allocation: the kernel takes it without blocking.
            assertThat(engine.write(file, src, 0).get(10, TimeUnit.SECONDS)).isEqualTo(8192);
            assertThat(engine.stats().poolRuns()).as("writes handed to the pool").isEqualTo(1);
            MemorySegment dst = arena.allocate(8192, 4096);
            assertThat(engine.read(file, dst, 0).get(10, TimeUnit.SECONDS)).isEqualTo(8192);
            assertThat(TestData.firstMismatch(dst, 0, SEED + 3)).isEqualTo(-1);
        }
        assertThat(Files.size(path)).isEqualTo(8192);
    }

    @Test
    void shouldWriteDirectOnTmpfsWhoseIoSubmitRefusesNowait() throws Exception {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm here");
        Path path = Files.createTempFile(shm, "panaio", ".dat");
        try (AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment src = arena.allocate(4096, 4096);
            for (int i = 0; i < 3; i++) {
                TestData.fill(src, i * 4096L, SEED + 4);
                // io_submit refuses the NOWAIT the engine adds (EOPNOTSUPP): the write goes again without it.
                assertThat(engine.write(file, src, i * 4096L).get(10, TimeUnit.SECONDS)).isEqualTo(4096);
            }
            assertThat(engine.stats().poolRuns()).isZero();
            assertThat(engine.stats().requestsCompleted()).as("one refusal, then never NOWAIT again").isEqualTo(3);
            MemorySegment dst = arena.allocate(3 * 4096, 4096);
            assertThat(engine.read(file, dst, 0).get(10, TimeUnit.SECONDS)).isEqualTo(3 * 4096);
            assertThat(TestData.firstMismatch(dst, 0, SEED + 4)).isEqualTo(-1);
        } catch (DirectIoUnsupportedException e) {
            assumeTrue(false, "tmpfs here has no O_DIRECT: " + e.getMessage());
        } finally {
            Files.deleteIfExists(path);
        }
    }

    @Test
    void shouldDeliverKernelErrorsToTheRequestsFuture() throws Exception {
        Path path = TestData.writeFile(dir.resolve("e"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ)) {
            // A read of a directory: the kernel rejects it inside io_submit (EINVAL).
            try (AioFile directory = AioFile.open(dir, READ)) {
                CompletableFuture<Integer> failed = engine.read(directory, arena.allocate(512), 0);
                assertThatThrownBy(() -> failed.get(10, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(AioException.class)
                        .hasMessageContaining("EINVAL");
            }
            assertThat(engine.read(file, arena.allocate(512), 0).get(10, TimeUnit.SECONDS)).isEqualTo(512);
        }
    }

    @Test
    void shouldCompleteAPollWhenTheEventFdBecomesReadable() throws Exception {
        try (AioEngine engine = AioEngine.open(); EventFd ready = EventFd.open()) {
            CompletableFuture<Integer> poll = engine.poll(ready, 1);
            Thread.sleep(50);
            assertThat(poll).isNotDone();
            ready.write(1);
            assertThat(poll.get(10, TimeUnit.SECONDS) & 1).isEqualTo(1);
        }
    }

    @Test
    void shouldCompleteEveryRequestExactlyOnceWhenClosedWithWorkPending() throws Exception {
        Path path = TestData.writeFile(dir.resolve("close"), 8 << 20, SEED);
        AioEngine engine = AioEngine.builder().capacity(16).build();
        AtomicInteger completions = new AtomicInteger();
        AtomicInteger closedFailures = new AtomicInteger();
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); EventFd never = EventFd.open()) {
            CompletableFuture<Integer> poll = engine.poll(never, 1);
            MemorySegment buffers = arena.allocate(2000 * 4096L, 4096);
            for (int i = 0; i < 2000; i++) {
                CompletableFuture<Integer> f = engine.read(file, buffers.asSlice(i * 4096L, 4096), (i % 2048) * 4096L);
                f.whenComplete((r, e) -> {
                    completions.incrementAndGet();
                    if (e instanceof AsynchronousCloseException) {
                        closedFailures.incrementAndGet();
                    }
                });
                futures.add(f);
            }
            engine.close();
            assertThat(poll).isDone(); // cancelled by the shutdown, not left hanging
            int succeeded = 0;
            for (CompletableFuture<Integer> f : futures) {
                assertThat(f).isDone();
                if (f.isCompletedExceptionally()) {
                    assertThatThrownBy(f::join).hasCauseInstanceOf(AsynchronousCloseException.class);
                } else {
                    assertThat(f.join()).isEqualTo(4096);
                    succeeded++;
                }
            }
            assertThat(completions.get()).isEqualTo(2000);
            assertThat(closedFailures.get()).as("reads failed by the close").isEqualTo(2000 - succeeded);
            assertThatThrownBy(() -> engine.read(file, buffers.asSlice(0, 4096), 0).join())
                    .isInstanceOf(CompletionException.class).hasCauseInstanceOf(AsynchronousCloseException.class);
        }
    }

    /*
     * A CompletableFuture ignores a second completion, so futures cannot show a duplicate delivery. A
     * CompletionHandler of a channel on the engine is called once per delivery, so it counts them.
     */
    @Test
    void shouldDeliverEveryCompletionExactlyOnceWhenClosedWithWorkPending() throws Exception {
        Path path = TestData.writeFile(dir.resolve("once"), 8 << 20, SEED);
        int reads = 2000;
        AioEngine engine = AioEngine.builder().capacity(16).build();
        DeliveryCount deliveries = new DeliveryCount(reads);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                Set.of(READ, ExtendedOpenOption.DIRECT), null, engine)) {
            for (int i = 0; i < reads; i++) {
                ByteBuffer buffer = arena.allocate(4096, 4096).asByteBuffer();
                channel.read(buffer, (i % 2048) * 4096L, i, deliveries);
            }
            engine.close(); // returns once every request has been delivered
            deliveries.assertEachExactlyOnce();
            assertThat(deliveries.failures()).allSatisfy(
                    failure -> assertThat(failure).isInstanceOf(AsynchronousCloseException.class));
        }
    }

    @Test
    void shouldFailEveryQueuedRequestWithAsynchronousCloseExceptionOnClose() throws Exception {
        Path path = TestData.writeFile(dir.resolve("queued"), 1 << 20, SEED);
        int reads = 50;
        AioEngine engine = AioEngine.builder().capacity(1).maxPending(reads).build();
        DeliveryCount deliveries = new DeliveryCount(reads);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                Set.of(READ, ExtendedOpenOption.DIRECT), null, engine); EventFd never = EventFd.open()) {
            CompletableFuture<Integer> poll = engine.poll(never, 1); // holds the engine's one slot
            for (int i = 0; i < reads; i++) {
                // Direct: a buffered read would be answered from the page cache without the engine's queue.
                channel.read(arena.allocate(4096, 4096).asByteBuffer(), i * 4096L, i, deliveries);
            }
            engine.close();
            assertThat(poll).isDone();
            deliveries.assertEachExactlyOnce();
            assertThat(deliveries.failures()).hasSize(reads).allSatisfy(
                    failure -> assertThat(failure).isInstanceOf(AsynchronousCloseException.class));
        }
    }

    /*
     * Submitters parked for a queue place are woken by the close itself, as it fails the queued requests and frees
     * their places. What they queue then must fail too: a request that slipped into the kernel after the close began
     * would be a poll cancelled by it, completing normally with no events.
     */
    @Test
    void shouldFailRequestsQueuedByParkedSubmittersWhileTheCloseRuns() throws Exception {
        try (EventFd never = EventFd.open()) {
            for (int round = 0; round < 100; round++) {
                AioEngine engine = AioEngine.builder().capacity(1).maxPending(1).build();
                CompletableFuture<Integer> inKernel = engine.poll(never, 1); // never ready: it fills the kernel
                CompletableFuture<Integer> queued = engine.poll(never, 1); // takes the one queue place
                Queue<CompletableFuture<Integer>> parked = new ConcurrentLinkedQueue<>();
                List<Thread> submitters = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    submitters.add(Thread.ofPlatform().start(() -> parked.add(engine.poll(never, 1))));
                }
                while (engine.stats().backpressureWaits() < submitters.size()) {
                    Thread.sleep(1);
                }
                engine.close();
                for (Thread submitter : submitters) {
                    submitter.join();
                }

                assertThat(inKernel.join()).as("the kernel's poll, cancelled by the close").isZero();
                assertThat(parked).as("round %d", round).hasSize(submitters.size()).allSatisfy(f ->
                        assertThatThrownBy(f::join).hasCauseInstanceOf(AsynchronousCloseException.class));
                assertThatThrownBy(queued::join).hasCauseInstanceOf(AsynchronousCloseException.class);
            }
        }
    }

    /** Counts the deliveries to a CompletionHandler per request (the attachment is the request's index). */
    private static final class DeliveryCount implements CompletionHandler<Integer, Integer> {
        private final AtomicIntegerArray counts;
        private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

        DeliveryCount(int requests) {
            counts = new AtomicIntegerArray(requests);
        }

        @Override
        public void completed(Integer result, Integer request) {
            counts.incrementAndGet(request);
        }

        @Override
        public void failed(Throwable error, Integer request) {
            counts.incrementAndGet(request);
            failures.add(error);
        }

        List<Throwable> failures() {
            return List.copyOf(failures);
        }

        void assertEachExactlyOnce() {
            for (int i = 0; i < counts.length(); i++) {
                assertThat(counts.get(i)).as("deliveries of request %d", i).isEqualTo(1);
            }
        }
    }

    @Test
    void shouldLetACallbackSubmitMoreWorkWithoutDeadlock() throws Exception {
        Path path = TestData.writeFile(dir.resolve("chain"), 1 << 20, SEED);
        try (AioEngine engine = AioEngine.builder().capacity(1).maxPending(1).build();
             AioFile file = AioFile.open(path, READ)) {
            CountDownLatch done = new CountDownLatch(1);
            MemorySegment buffer = arena.allocate(4096);
            chain(engine, file, buffer, 0, 200, done);
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static void chain(AioEngine engine, AioFile file, MemorySegment buffer, int n, int last,
                              CountDownLatch done) {
        engine.read(file, buffer, n * 4096L).thenRun(() -> {
            if (n == last) {
                done.countDown();
            } else {
                chain(engine, file, buffer, n + 1, last, done);
            }
        });
    }

    @Test
    void shouldParkSubmittersBeyondMaxPendingUntilTheQueueDrains() throws Exception {
        Path path = TestData.writeFile(dir.resolve("bp"), 1 << 20, SEED);
        int maxPending = 4;
        int submitters = maxPending + 2;
        try (AioEngine engine = AioEngine.builder().capacity(1).maxPending(maxPending).build();
             AioFile file = AioFile.open(path, READ); EventFd gate = EventFd.open()) {
            CompletableFuture<Integer> poll = engine.poll(gate, 1); // holds the engine's one slot until written
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < submitters; i++) {
                CompletableFuture<Integer> read = new CompletableFuture<>();
                long position = i * 512L;
                reads.add(read);
                threads.add(Thread.ofPlatform().daemon().start(() -> {
                    CompletableFuture<Integer> f = engine.read(file, arena.allocate(512), position);
                    f.whenComplete((r, e) -> {
                        if (e != null) {
                            read.completeExceptionally(e);
                        } else {
                            read.complete(r);
                        }
                    });
                }));
            }
            // maxPending submitters return with their request queued; the rest park inside read().
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && (count(threads, Thread.State.TERMINATED) < maxPending
                    || parkedInEngine(threads) < submitters - maxPending)) {
                Thread.sleep(5);
            }
            assertThat(count(threads, Thread.State.TERMINATED)).as("submitters that returned").isEqualTo(maxPending);
            assertThat(parkedInEngine(threads)).as("submitters parked in AioEngine.read")
                    .isEqualTo(submitters - maxPending);
            assertThat(reads).allSatisfy(read -> assertThat(read).isNotDone());

            gate.write(1); // the poll completes, the queue drains, the parked submitters get permits
            assertThat(poll.get(10, TimeUnit.SECONDS) & 1).isEqualTo(1);
            for (Thread thread : threads) {
                thread.join(10_000);
                assertThat(thread.isAlive()).as("%s still parked after the queue drained", thread).isFalse();
            }
            for (CompletableFuture<Integer> read : reads) {
                assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(512);
            }
        }
    }

    private static long count(List<Thread> threads, Thread.State state) {
        return threads.stream().filter(t -> t.getState() == state).count();
    }

    /** Threads parked (WAITING) with a stack inside AioEngine: waiting for room in its queue. */
    private static long parkedInEngine(List<Thread> threads) {
        return threads.stream()
                .filter(t -> t.getState() == Thread.State.WAITING)
                .filter(t -> Arrays.stream(t.getStackTrace())
                        .anyMatch(frame -> frame.getClassName().equals(AioEngine.class.getName())))
                .count();
    }

    @Test
    void shouldRejectBadRequestsAtOnceInTheCallingThread() throws IOException {
        Path path = TestData.writeFile(dir.resolve("bad"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            // Misalignment is an I/O error (as the JDK reports it): the future has already failed on return.
            assertThat(engine.read(file, arena.allocate(4096, 4096), 100)).isCompletedExceptionally()
                    .failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOf(MisalignedIoException.class)
                    .withMessageContaining("multiple of " + file.alignment().offset());
            assertThatThrownBy(() -> engine.read(file, MemorySegment.ofArray(new byte[4096]), 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("native memory");
            assertThatThrownBy(() -> engine.poll(file, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> AioEngine.builder().threads(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("threads must be between 1 and 64, not 0");
        }
    }

    @Test
    void shouldServeReadsAndCloseWhilePollsArePending() throws Exception {
        Path path = TestData.writeFile(dir.resolve("polls"), 1 << 16, SEED);
        AioEngine engine = AioEngine.builder().capacity(4).build();
        try (EventFd never = EventFd.open(); AioFile file = AioFile.open(path, READ)) {
            List<CompletableFuture<Integer>> polls = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                polls.add(engine.poll(never, 1)); // each pending poll holds one of the engine's 4 slots
            }
            assertThat(engine.read(file, arena.allocate(100), 0).get(10, TimeUnit.SECONDS)).isEqualTo(100);
            Thread closer = Thread.ofPlatform().start(engine::close);
            closer.join(10_000);
            assertThat(closer.isAlive()).as("close() with polls pending").isFalse();
            assertThat(polls).allSatisfy(poll -> assertThat(poll).isDone());
        }
    }

    @Test
    void shouldNotDeadlockWhenCallbacksOnTwoEngineThreadsSubmitToEachOther() throws Exception {
        Path path = TestData.writeFile(dir.resolve("two"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.builder().threads(2).maxPending(1).build();
             AioFile file = AioFile.open(path, READ); EventFd trigger = EventFd.open()) {
            java.util.concurrent.CyclicBarrier bothInCallbacks = new java.util.concurrent.CyclicBarrier(3);
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger completed = new AtomicInteger();
            for (int loop = 0; loop < 2; loop++) {
                engine.poll(trigger, 1).thenRun(() -> { // runs on whichever engine thread completed the poll
                    try {
                        bothInCallbacks.await();
                        go.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    for (int i = 0; i < 16; i++) {
                        engine.read(file, arena.allocate(64), 0).thenRun(completed::incrementAndGet);
                    }
                });
            }
            trigger.write(1);
            bothInCallbacks.await(10, TimeUnit.SECONDS);
            // Both engine threads sit in callbacks: fill each queue's single permit from an ordinary thread.
            engine.read(file, arena.allocate(64), 0).thenRun(completed::incrementAndGet);
            engine.read(file, arena.allocate(64), 0).thenRun(completed::incrementAndGet);
            go.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (completed.get() < 34 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(completed.get()).isEqualTo(34);
        }
    }

    // ------------------------------------------------------ issue 8, section 4

    @Test
    void shouldRefuseToCloseTheSharedEngineAndKeepServingIt() throws Exception {
        Path path = TestData.writeFile(dir.resolve("shared"), 1 << 16, SEED);
        AioEngine shared = AioEngine.shared();
        assertThatThrownBy(shared::close).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("shared AioEngine lives as long as the process")
                .hasMessageContaining("AioEngine.open()");
        assertThat(shared.isClosed()).isFalse();
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) { // opened later, on the shared engine
            assertThat(channel.read(ByteBuffer.allocate(100), 0)).isEqualTo(100);
        }
        try (AioFile file = AioFile.open(path, READ)) {
            assertThat(shared.read(file, arena.allocate(100), 0).get(10, TimeUnit.SECONDS)).isEqualTo(100);
        }
    }

    @Test
    void shouldCloseAClosedFilesDescriptorWhileTheEngineSleeps() throws Exception {
        Path path = TestData.writeFile(dir.resolve("pinned"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open()) {
            AioFile file = AioFile.open(path, READ);
            // Several reads, one after another: the engine's context pins the file it last submitted for.
            for (int i = 0; i < 4; i++) {
                assertThat(engine.read(file, arena.allocate(512), i * 512L).get(10, TimeUnit.SECONDS)).isEqualTo(512);
            }
            assertThat(descriptorsOf(path)).as("descriptors of %s while open", path).isEqualTo(1);
            file.close(); // the engine is asleep now, or soon: nothing wakes it
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (descriptorsOf(path) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(descriptorsOf(path)).as("descriptors of %s after close(), the engine asleep", path).isZero();
            // and the engine still serves the next file
            try (AioFile again = AioFile.open(path, READ)) {
                assertThat(engine.read(again, arena.allocate(512), 0).get(10, TimeUnit.SECONDS)).isEqualTo(512);
            }
        }
    }

    private static long descriptorsOf(Path path) throws IOException {
        String target = path.toAbsolutePath().toString();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals(target);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void shouldDeliverPoolCompletionsOffThePoolSoThatHandlersMayWaitForIt() throws Exception {
        // On tmpfs every buffered read goes to the blocking pool (no RWF_NOWAIT). Each handler and each future's
        // dependent then makes a blocking read, which needs the pool: run on the pool's one thread, it would wait
        // for itself. The JDK's channels, beside, do the same and finish.
        Path file = tmpfsFile();
        AioEngine engine = AioEngine.builder().blockingThreads(1).build();
        int finished;
        try (AioAsynchronousFileChannel async = AioAsynchronousFileChannel.open(file, Set.of(READ), null, engine);
             AioFileChannel blocking = AioFileChannel.open(file, Set.of(READ), engine)) {
            finished = nestedBlockingReads(async, blocking, true);
        } finally {
            Files.deleteIfExists(file);
        }
        // Deadlocked, the engine is left open: close() waits for its pool, whose thread waits for itself.
        assertThat(finished).as("panaio, handlers and futures").isEqualTo(16);
        engine.close();
        Path jdkFile = tmpfsFile();
        try (AsynchronousFileChannel async = AsynchronousFileChannel.open(jdkFile, READ);
             FileChannel blocking = FileChannel.open(jdkFile, READ)) {
            assertThat(nestedBlockingReads(async, blocking, false)).as("the JDK's, handlers").isEqualTo(8);
        } finally {
            Files.deleteIfExists(jdkFile);
        }
    }

    private static Path tmpfsFile() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm (tmpfs) here");
        return TestData.writeFile(Files.createTempFile(shm, "panaio", ".dat"), 1 << 16, SEED);
    }

    /**
     * 8 handlers, and with {@code futures} 8 dependents of panaio's futures too, each doing a blocking read:
     * how many of those reads finished within 20 s.
     */
    private static int nestedBlockingReads(AsynchronousFileChannel async, FileChannel blocking, boolean futures)
            throws InterruptedException {
        AtomicInteger done = new AtomicInteger();
        CountDownLatch all = new CountDownLatch(futures ? 16 : 8);
        for (int i = 0; i < 8; i++) {
            long position = i * 512L;
            async.read(ByteBuffer.allocate(512), position, null, new CompletionHandler<Integer, Void>() {
                @Override
                public void completed(Integer n, Void a) {
                    blockingRead(blocking, position, done);
                    all.countDown();
                }

                @Override
                public void failed(Throwable error, Void a) {
                    all.countDown();
                }
            });
            if (futures) {
                ((AioAsynchronousFileChannel) async).readAsync(ByteBuffer.allocate(512), position).thenRun(() -> {
                    blockingRead(blocking, position, done);
                    all.countDown();
                });
            }
        }
        all.await(20, TimeUnit.SECONDS);
        return done.get();
    }

    private static void blockingRead(FileChannel channel, long position, AtomicInteger done) {
        try {
            if (channel.read(ByteBuffer.allocate(512), position) == 512) {
                done.incrementAndGet();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void shouldLetNoPoolReadWriteIntoABufferAfterCloseReturns() throws Exception {
        // One pool thread, kept busy by synchronous (DSYNC) writes, each waiting for the disk; behind them, reads
        // from tmpfs (which always go to the pool) into direct buffers. Whatever close() does with the reads
        // (run them or refuse them), none may write into its buffer after close() has returned.
        Path reads = tmpfsFile();
        Path writes = dir.resolve("dsync");
        try {
            AioEngine engine = AioEngine.builder().blockingThreads(1).build();
            AioAsynchronousFileChannel slow = AioAsynchronousFileChannel.open(writes,
                    Set.of(WRITE, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.DSYNC),
                    null, engine);
            AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(reads, Set.of(READ), null, engine);
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                futures.add(slow.writeAsync(ByteBuffer.allocate(4096), i * 4096L));
            }
            int count = 200;
            List<ByteBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(4096); // zeroed; the file has no zero page
                buffers.add(buffer);
                futures.add(channel.readAsync(buffer, (i % 16) * 4096L));
            }
            engine.close();
            List<byte[]> atClose = new ArrayList<>();
            for (ByteBuffer buffer : buffers) {
                byte[] copy = new byte[4096];
                buffer.get(0, copy);
                atClose.add(copy);
            }
            for (CompletableFuture<Integer> future : futures) {
                try {
                    future.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException closed) {
                    // refused or failed by the close: fine, as long as it completes
                }
            }
            int changed = 0;
            for (int i = 0; i < count; i++) {
                byte[] now = new byte[4096];
                buffers.get(i).get(0, now);
                if (!java.util.Arrays.equals(now, atClose.get(i))) {
                    changed++;
                }
            }
            assertThat(changed).as("buffers written after AioEngine.close() returned").isZero();
            slow.close();
            channel.close();
        } finally {
            Files.deleteIfExists(reads);
        }
    }

    @Test
    void shouldNeverParkAnEngineThreadOnAnotherEnginesPermits() throws Exception {
        try (AioEngine a = AioEngine.open();
             AioEngine full = AioEngine.builder().capacity(1).maxPending(1).build();
             EventFd trigger = EventFd.open();
             EventFd never = EventFd.open()) {
            CompletableFuture<Integer> holdsTheSlot = full.poll(never, 1);
            CompletableFuture<Integer> holdsThePermit = full.poll(never, 1);
            awaitOutstanding(full, 2);
            CountDownLatch callbackReturned = new CountDownLatch(1);
            List<CompletableFuture<Integer>> fromTheCallback = new ArrayList<>();
            a.poll(trigger, 1).thenRun(() -> { // on a's engine thread
                fromTheCallback.add(full.poll(never, 1)); // full's queue is full: must not park this thread
                callbackReturned.countDown();
            });
            trigger.write(1);
            assertThat(callbackReturned.await(10, TimeUnit.SECONDS))
                    .as("a callback on one engine's thread submitting to another, full engine returned").isTrue();
            never.write(1); // lets everything finish
            assertThat(holdsTheSlot.get(10, TimeUnit.SECONDS)).isPositive();
            assertThat(holdsThePermit.get(10, TimeUnit.SECONDS)).isPositive();
            assertThat(fromTheCallback.get(0).get(10, TimeUnit.SECONDS)).isPositive();
        }
    }

    @Test
    void shouldCloseAChannelWhoseBlockingCallIsInterruptedWhileWaitingForRoom() throws Exception {
        Path path = TestData.writeFile(dir.resolve("room"), 1 << 16, SEED);
        try (AioEngine full = AioEngine.builder().capacity(1).maxPending(1).build();
             EventFd never = EventFd.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, ExtendedOpenOption.DIRECT), full)) {
            CompletableFuture<Integer> holdsTheSlot = full.poll(never, 1);
            CompletableFuture<Integer> holdsThePermit = full.poll(never, 1);
            awaitOutstanding(full, 2);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    channel.read(ByteBuffer.allocateDirect(8192).alignedSlice(4096), 0);
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            while (reader.getState() != Thread.State.WAITING && reader.isAlive()) {
                Thread.sleep(5); // parked on the engine's permits
            }
            reader.interrupt();
            reader.join(10_000);
            boolean stuck = reader.isAlive();
            never.write(1); // frees the engine whatever happened, so the test ends
            assertThat(stuck).as("a blocking read waiting for room, interrupted, returned").isFalse();
            assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(ClosedByInterruptException.class);
            assertThat(channel.isOpen()).as("an interrupted blocking call closes its channel, as the JDK").isFalse();
            assertThat(holdsTheSlot.get(10, TimeUnit.SECONDS)).isPositive();
            assertThat(holdsThePermit.get(10, TimeUnit.SECONDS)).isPositive();
        }
    }

    private static void awaitOutstanding(AioEngine engine, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.outstanding() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(engine.outstanding()).isEqualTo(count);
    }

    @Test
    void shouldReportTheRealResultsOfCompletedRequestsWhenTheEngineDies() throws Exception {
        // The engine thread dies when the uncaught-exception handler of its thread throws (a delivery failed,
        // and reporting it failed too). The writes submitted in the same batch completed in the kernel:
        // they must be reported with their results, not failed.
        Path path = TestData.writeFile(dir.resolve("fatal"), 1 << 16, SEED);
        class Fatal extends Error {
            Fatal() {
                super("injected: the engine thread dies", null, false, false);
            }
        }
        var engines = SharedSecrets.engineAccess();
        try (AioEngine engine = AioEngine.builder().capacity(16).build();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT);
             EventFd gate = EventFd.open()) {
            CountDownLatch engineHeld = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            // 1. Hold the engine thread inside a delivery, and make its uncaught-exception handler fatal.
            engines.submit(engine, Request.poll(gate, 1), new CompletionSink() {
                @Override
                public void finish(long result) {
                    AtomicBoolean once = new AtomicBoolean();
                    Thread.currentThread().setUncaughtExceptionHandler((t, e) -> {
                        if (e instanceof Fatal fatal && once.compareAndSet(false, true)) {
                            throw fatal;
                        }
                    });
                    engineHeld.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }

                @Override
                public void fail(Throwable error) {
                    engineHeld.countDown();
                }
            });
            gate.write(1);
            assertThat(engineHeld.await(10, TimeUnit.SECONDS)).isTrue();
            // 2. Queue, while it is held, a write whose delivery kills the engine, then 8 writes: one batch.
            MemorySegment data = arena.allocate(9 * 4096L, 4096);
            engines.submit(engine, Request.write(file, data.asSlice(0, 4096), 0, "aio"), new CompletionSink() {
                @Override
                public void finish(long result) {
                    throw new Fatal();
                }

                @Override
                public void fail(Throwable error) {
                    throw new Fatal();
                }
            });
            List<CompletableFuture<Long>> results = new ArrayList<>();
            for (int i = 1; i <= 8; i++) {
                CompletableFuture<Long> result = new CompletableFuture<>();
                results.add(result);
                engines.submit(engine, Request.write(file, data.asSlice(i * 4096L, 4096), i * 4096L, "aio"),
                        new CompletionSink() {
                            @Override
                            public void finish(long n) {
                                result.complete(n);
                            }

                            @Override
                            public void fail(Throwable error) {
                                result.completeExceptionally(error);
                            }
                        });
            }
            release.countDown();
            for (CompletableFuture<Long> result : results) {
                assertThat(result).succeedsWithin(Duration.ofSeconds(20)).isEqualTo(4096L);
            }
        }
    }
}
