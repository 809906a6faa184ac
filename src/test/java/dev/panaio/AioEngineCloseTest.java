package dev.panaio;

import dev.panaio.internal.engine.Request;
import dev.panaio.internal.engine.CompletionSink;
import dev.panaio.internal.access.SharedSecrets;
import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.CompletionHandler;
import java.nio.file.Files;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * AioEngine's close with work queued, in the kernel, parked or on the pool, and an engine thread that dies:
 * every request completes exactly once, and nothing writes into a buffer after close returns.
 */
class AioEngineCloseTest {
    private static final int SEED = 11;

    @TempDir
    Path dir;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void closeArena() {
        arena.close();
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
    void shouldLetNoPoolReadWriteIntoABufferAfterCloseReturns() throws Exception {
        // One pool thread, kept busy by synchronous (DSYNC) writes, each waiting for the disk; behind them, reads
        // from tmpfs (which always go to the pool) into direct buffers. Whatever close() does with the reads
        // (run them or refuse them), none may write into its buffer after close() has returned.
        Path reads = AioEngineTest.tmpfsFile();
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
