package dev.panaio;

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
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
            for (CompletableFuture<Integer> f : futures) {
                assertThat(f).isDone();
                if (!f.isCompletedExceptionally()) {
                    assertThat(f.join()).isEqualTo(4096);
                }
            }
            assertThat(completions.get()).isEqualTo(2000);
            assertThatThrownBy(() -> engine.read(file, buffers.asSlice(0, 4096), 0).join())
                    .isInstanceOf(CompletionException.class).hasCauseInstanceOf(AsynchronousCloseException.class);
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
    void shouldParkSubmittersBeyondMaxPendingWithoutFailing() throws Exception {
        Path path = TestData.writeFile(dir.resolve("bp"), 1 << 20, SEED);
        try (AioEngine engine = AioEngine.builder().capacity(1).maxPending(4).build();
             AioFile file = AioFile.open(path, READ);
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            ConcurrentHashMap<Integer, Integer> results = new ConcurrentHashMap<>();
            for (int i = 0; i < 2000; i++) {
                int n = i;
                threads.submit(() -> results.put(n, engine.read(file, arena.allocate(512), n * 512L).join()));
            }
            threads.shutdown();
            assertThat(threads.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
            assertThat(results).hasSize(2000).allSatisfy((n, r) -> assertThat(r).isEqualTo(512));
        }
    }

    @Test
    void shouldRejectBadRequestsAtOnceInTheCallingThread() throws IOException {
        Path path = TestData.writeFile(dir.resolve("bad"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            // Misalignment is an I/O error (as the JDK reports it): the future has already failed on return.
            assertThat(engine.read(file, arena.allocate(4096, 4096), 100)).isCompletedExceptionally()
                    .failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOf(MisalignedIoException.class).withMessageContaining("multiple of 512");
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
}
