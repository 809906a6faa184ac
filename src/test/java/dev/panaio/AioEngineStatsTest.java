package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.OnVirtualThread;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AioEngineStatsTest {
    private static final int SEED = 23;

    @TempDir
    Path dir;

    @Test
    void shouldCountEverySubmittedAndCompletedRequestAndTheIoSubmitCalls() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        try (AioEngine engine = AioEngine.builder().capacity(32).build();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             AioArena arena = AioArena.open()) {
            assertThat(engine.stats()).isEqualTo(new AioEngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                reads.add(engine.read(file, arena.allocate(4096, 4096), i * 4096L));
            }
            reads.forEach(CompletableFuture::join);

            AioEngineStats stats = engine.stats();
            assertThat(stats.requestsSubmitted()).isEqualTo(100);
            assertThat(stats.requestsCompleted()).isEqualTo(100);
            assertThat(stats.inFlight()).isZero();
            assertThat(stats.queued()).isZero();
            assertThat(stats.ioSubmitCalls()).isBetween(4L, 100L); // at most 32 fit in the kernel at once
            assertThat(stats.meanBatch()).isEqualTo(100.0 / stats.ioSubmitCalls());
            assertThat(stats.bounceCopiedBytes()).isZero(); // AioArena memory goes to the kernel in place
            assertThat(stats.eagainRetries()).isZero();
        }
    }

    @Test
    void shouldCountTheBytesCopiedThroughBounceBuffers() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 << 10, SEED);
        try (AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofShared()) {
            engine.read(file, arena.allocate(8192, 4096), 0).join(); // a caller's arena: copied
            try (AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, ExtendedOpenOption.DIRECT),
                    engine)) {
                channel.read(ByteBuffer.allocate(4096), 4096); // heap memory on a direct file: copied
            }
            assertThat(engine.stats().bounceCopiedBytes()).isEqualTo(8192 + 4096);
        }
    }

    @Test
    void shouldCountPageCacheHitsMissesAndPoolRuns() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 256 << 10, SEED);
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ), engine)) {
            ByteBuffer dst = ByteBuffer.allocateDirect(4096);
            AioEngineStats[] seen = new AioEngineStats[2];
            OnVirtualThread.run(() -> { // a platform thread makes its own pread, counted in neither
                channel.read(dst, 0); // just written: in the page cache
                seen[0] = engine.stats();
                PageCache.evict(path);
                channel.read(dst.clear(), 8192);
                seen[1] = engine.stats();
            });
            AioEngineStats cached = seen[0];
            AioEngineStats evicted = seen[1];

            assertThat(cached.inlineHits() + cached.inlineMisses()).isEqualTo(1);
            assertThat(evicted.inlineMisses()).isEqualTo(cached.inlineMisses() + 1);
            assertThat(evicted.poolRuns()).isEqualTo(cached.poolRuns() + 1);
            assertThat(evicted.requestsSubmitted()).isZero(); // buffered reads never go to kernel AIO
        }
    }

    @Test
    void shouldShowQueuedRequestsAndCountASubmitterParkedForRoom() throws Exception {
        try (EventFd never = EventFd.open()) {
            AioEngine engine = AioEngine.builder().capacity(1).maxPending(1).build();
            List<CompletableFuture<Integer>> polls = new ArrayList<>();
            for (int i = 0; i < engine.capacity(); i++) {
                polls.add(engine.poll(never, 1)); // never ready: they fill the kernel
            }
            awaitStats(engine, s -> s.inFlight() == engine.capacity());
            polls.add(engine.poll(never, 1)); // takes the one queue place
            CompletableFuture<CompletableFuture<Integer>> parkedPoll = new CompletableFuture<>();
            Thread parked = Thread.ofPlatform().start(() -> parkedPoll.complete(engine.poll(never, 1)));
            awaitStats(engine, s -> s.backpressureWaits() == 1);

            AioEngineStats stats = engine.stats();
            assertThat(stats.queued()).isEqualTo(1);
            assertThat(stats.inFlight()).isEqualTo(engine.capacity());
            assertThat(stats.requestsSubmitted()).isEqualTo(engine.capacity());
            engine.close();
            parked.join();
            polls.add(parkedPoll.join());
            assertThat(polls).allMatch(CompletableFuture::isDone); // the queued two failed, the kernel's cancelled
            assertThatThrownBy(polls.getLast()::join).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(AsynchronousCloseException.class);
            assertThat(engine.stats().inFlight()).isZero();
        }
    }

    private static void awaitStats(AioEngine engine, java.util.function.Predicate<AioEngineStats> condition)
            throws InterruptedException {
        for (int i = 0; i < 1000 && !condition.test(engine.stats()); i++) {
            Thread.sleep(10);
        }
        assertThat(engine.stats()).matches(condition);
    }
}
