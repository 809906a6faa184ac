package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AioArenaTest {
    private static final int SEED = 23;

    @TempDir
    Path dir;

    @Test
    void shouldRefuseToCloseWhileARequestOnItsMemoryIsInFlightAndCloseOnceItHasCompleted() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 16, SEED);
        AioArena arena = AioArena.open();
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            MemorySegment block = arena.allocate(4096, 4096);
            aio.prepareRead(file, block, 4096, 7);
            assertThat(arena.inFlight()).isEqualTo(1);
            assertThatThrownBy(arena::close).isInstanceOf(IllegalStateException.class)
                    .hasMessage("AioArena cannot be closed: 1 request on its memory is in flight; close it once it "
                            + "has completed");
            aio.submit();
            long[] result = new long[1];
            aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> result[0] = res);
            assertThat(result[0]).isEqualTo(4096);
            assertThat(TestData.firstMismatch(block, 4096, SEED)).isEqualTo(-1);
            assertThat(arena.inFlight()).isZero();
        }
        arena.close();
        assertThat(arena.scope().isAlive()).isFalse();
        assertThatThrownBy(() -> arena.allocate(16)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(arena::close).isInstanceOf(IllegalStateException.class).hasMessage("Already closed");
    }

    @Test
    void shouldGiveTheUseBackWhenAPreparedRequestIsDroppedByClosingTheContext() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 16, SEED);
        try (AioArena arena = AioArena.open(); AioFile file = AioFile.open(path, READ)) {
            try (AioContext aio = AioContext.open(4)) {
                aio.prepareRead(file, arena.allocate(100), 0, 1);
                aio.prepareRead(file, arena.allocate(100), 0, 2);
                assertThat(arena.inFlight()).isEqualTo(2);
                assertThatThrownBy(arena::close).hasMessageContaining("2 requests on its memory are in flight");
            }
            assertThat(arena.inFlight()).isZero();
        }
    }

    @Test
    void shouldHoldAUseFromTheEngineCallUntilTheFutureCompletes() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 8 << 20, SEED);
        AioArena arena = AioArena.open();
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            MemorySegment big = arena.allocate(8 << 20, 4096);
            CompletableFuture<Integer> read = engine.read(file, big, 0);
            try {
                arena.close();
                throw new AssertionError("close() succeeded with a read on the arena handed to the engine");
            } catch (IllegalStateException expected) {
                // Unless the 8 MiB read was already delivered, close() must have refused.
                assertThat(expected).hasMessageContaining("on its memory");
            } catch (AssertionError closed) {
                assertThat(read).isDone();
            }
            assertThat(read.get(30, TimeUnit.SECONDS)).isEqualTo(8 << 20);
            assertThat(TestData.firstMismatch(big, 0, SEED)).isEqualTo(-1);
            assertThat(arena.inFlight()).isZero();
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Test
    void shouldBeUsedInPlaceThroughItsByteBuffersOnADirectChannel() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 16, SEED);
        try (AioArena arena = AioArena.open();
             AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
            MemorySegment block = arena.allocate(8192, 4096);
            ByteBuffer buffer = block.asByteBuffer();
            assertThat(channel.read(buffer, 8192)).isEqualTo(8192);
            assertThat(TestData.firstMismatch(block, 8192, SEED)).isEqualTo(-1);
            assertThat(arena.inFlight()).isZero();
        }
    }
}
