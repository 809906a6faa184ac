package dev.panaio;

import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * AioContext's completion handlers that submit more work, reap the same context, or throw: each completion
 * is delivered once and none is lost.
 */
class AioContextHandlerTest {
    private static final int SEED = 7;

    @TempDir
    Path dir;

    /** A shared arena per test, closed after it. */
    @AutoClose
    private final Arena arena = Arena.ofShared();

    @Test
    void shouldLetACompletionHandlerSubmitMoreWork() throws IOException {
        Path path = TestData.writeFile(dir.resolve("chain"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            MemorySegment buffer = arena.allocate(512);
            aio.prepareRead(file, buffer, 0, 0);
            aio.submit();
            int[] completed = {0};
            CompletionConsumer chain = new CompletionConsumer() {
                @Override
                public void onCompletion(long tag, long result) {
                    completed[0]++;
                    if (tag < 9) {
                        try {
                            aio.prepareRead(file, buffer, (tag + 1) * 512, tag + 1);
                            aio.submit();
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                }
            };
            while (aio.inFlight() > 0) {
                aio.await(1, 10, TimeUnit.SECONDS, chain);
            }
            assertThat(completed[0]).isEqualTo(10);
        }
    }

    @Test
    void shouldKeepCompletionsQueuedWhenAHandlerThrows() throws IOException {
        Path path = TestData.writeFile(dir.resolve("throws"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 4; i++) {
                aio.prepareRead(file, arena.allocate(512), i * 512L, i);
            }
            aio.submit();
            List<Long> seen = new ArrayList<>();
            while (seen.size() < 4) {
                try {
                    aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> {
                        seen.add(tag);
                        if (seen.size() == 2) {
                            throw new IllegalStateException("handler failure");
                        }
                    });
                } catch (IllegalStateException e) {
                    assertThat(e).hasMessage("handler failure");
                }
            }
            assertThat(seen).containsExactlyInAnyOrder(0L, 1L, 2L, 3L);
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldDeliverEachCompletionOnceWhenAHandlerReapsTheSameContext() throws IOException {
        Path path = TestData.writeFile(dir.resolve("reentrant"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 4; i++) {
                aio.prepareRead(file, arena.allocate(512), i * 512L, i); // buffered: done inside io_submit
            }
            aio.submit();
            Completions seen = new Completions();
            CompletionConsumer outer = new CompletionConsumer() {
                boolean first = true;

                @Override
                public void onCompletion(long tag, long result) {
                    seen.onCompletion(tag, result);
                    if (first) {
                        first = false;
                        aio.reap(seen); // the owner may re-enter its context from a handler
                    }
                }
            };
            aio.reap(outer);
            assertThat(seen.count).isEqualTo(4);
            seen.byTag.forEach((tag, results) -> assertThat(results).hasSize(1));
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldDeliverEachCompletionOnceWhenAHandlerSubmitsMore() throws IOException {
        Path path = TestData.writeFile(dir.resolve("handler-submits"), 1 << 20, SEED);
        try (AioContext aio = AioContext.open(16); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 12; i++) {
                aio.prepareRead(file, arena.allocate(64), i * 64L, i);
            }
            aio.submit();
            Completions seen = new Completions();
            CompletionConsumer handler = new CompletionConsumer() {
                int next = 100;

                @Override
                public void onCompletion(long tag, long result) {
                    seen.onCompletion(tag, result);
                    if (next < 160) {
                        try {
                            for (int k = 0; k < 4 && aio.prepared() + aio.inFlight() < aio.capacity(); k++) {
                                aio.prepareRead(file, arena.allocate(64), 0, next++);
                            }
                            aio.submit(); // completes inside io_submit: the ring fills under the outer reap
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                }
            };
            while (aio.inFlight() > 0) {
                if (aio.reap(handler) == 0) {
                    aio.await(1, 10, TimeUnit.SECONDS, handler);
                }
            }
            assertThat(seen.byTag.values()).allSatisfy(results -> assertThat(results).hasSize(1));
            assertThat(seen.count).as("12 first reads and the 60 the handler added").isEqualTo(72)
                    .isEqualTo(seen.byTag.size());
        }
    }

    @Test
    void shouldKeepTheRestOfAnIoGeteventsBatchWhenAHandlerThrows() throws IOException {
        Path path = TestData.writeFile(dir.resolve("batch-throws"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8, false); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 4; i++) {
                aio.prepareRead(file, arena.allocate(512), i * 512L, i);
            }
            aio.submit();
            assertThatThrownBy(() -> aio.reap((tag, result) -> {
                throw new IllegalStateException("handler bug");
            })).hasMessage("handler bug");
            Completions rest = new Completions();
            aio.reap(rest);
            assertThat(rest.count).isEqualTo(3);
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldHonourMaxWhenReapingThroughIoGetevents() throws IOException {
        Path path = TestData.writeFile(dir.resolve("max"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8, false); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 4; i++) {
                aio.prepareRead(file, arena.allocate(512), i * 512L, i);
            }
            aio.submit();
            assertThat(aio.reap(1, new Completions())).isEqualTo(1);
            assertThat(aio.inFlight()).isEqualTo(3);
        }
    }
}
