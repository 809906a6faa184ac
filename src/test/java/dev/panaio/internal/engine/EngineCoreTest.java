package dev.panaio.internal.engine;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioArena;
import dev.panaio.AioEngineStats;
import dev.panaio.AioFile;
import dev.panaio.RequestOptions;
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
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link EngineCore} does behind {@code AioEngine} that the engine's own
 * tests (one loop, mostly) do not show: its counts are the sum over all its
 * loops, and once closed every way in fails with
 * {@link AsynchronousCloseException}, each sink once. Real O_DIRECT reads.
 */
class EngineCoreTest {
    private static final int SEED = 101;
    private static final int THREADS = 3;

    @TempDir
    Path dir;

    private static EngineCore open() throws Exception {
        return new EngineCore(THREADS, 8, 64, 9_101, 1, 1 << 20);
    }

    @Test
    void shouldCountTheRequestsOfEveryLoop() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        EngineCore core = open();
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); AioArena arena = AioArena.open()) {
            assertThat(core.loops().all()).hasSize(THREADS);
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            List<MemorySegment> buffers = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                MemorySegment buffer = arena.allocate(4096, 4096);
                buffers.add(buffer);
                reads.add(core.transfer(true, file, buffer, i * 4096L, RequestOptions.NONE));
            }
            for (int i = 0; i < 30; i++) {
                assertThat(reads.get(i).join()).isEqualTo(4096);
                assertThat(TestData.firstMismatch(buffers.get(i), i * 4096L, SEED)).isEqualTo(-1);
            }
            AioEngineStats stats = core.stats();
            assertThat(stats.requestsSubmitted()).as("submitted, over %d loops", THREADS).isEqualTo(30);
            assertThat(stats.requestsCompleted()).as("completed, over %d loops", THREADS).isEqualTo(30);
            assertThat(stats.inFlight()).isZero();
            assertThat(stats.queued()).isZero();
        } finally {
            core.close();
        }
    }

    /**
     * After close: a read into memory the kernel takes in place, one that
     * needs a bounce buffer (the pool is closed by then) and a request handed
     * straight to {@link EngineCore#submit} each fail with
     * {@link AsynchronousCloseException}, the sink exactly once.
     */
    @Test
    void shouldFailEveryRequestAfterCloseWithAsynchronousCloseException() throws Exception {
        Path path = TestData.writeFile(dir.resolve("closed"), 1 << 16, SEED);
        EngineCore core = open();
        core.close();
        assertThat(core.isClosed()).isTrue();
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); AioArena arena = AioArena.open();
             Arena shared = Arena.ofShared()) {
            MemorySegment inPlace = arena.allocate(4096, 4096);
            assertThatThrownBy(() -> core.transfer(true, file, inPlace, 0, RequestOptions.NONE).join())
                    .isInstanceOf(CompletionException.class).hasCauseInstanceOf(AsynchronousCloseException.class);
            MemorySegment bounced = shared.allocate(4096, 4096); // a caller's arena: copied through a bounce buffer
            assertThatThrownBy(() -> core.transfer(true, file, bounced, 0, RequestOptions.NONE).join())
                    .isInstanceOf(CompletionException.class).hasCauseInstanceOf(AsynchronousCloseException.class);

            List<Object> deliveries = new CopyOnWriteArrayList<>();
            core.submit(Request.read(file, inPlace, 0, "test"), new CompletionSink() {
                @Override
                public void finish(long result) {
                    deliveries.add(result);
                }

                @Override
                public void fail(Throwable error) {
                    deliveries.add(error);
                }
            });
            assertThat(deliveries).singleElement().isInstanceOf(AsynchronousCloseException.class);
        }
    }
}
