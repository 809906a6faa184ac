package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Issue 8, §1: {@link AioArena}, memory whose lifetime panaio controls, used in
 * place at every level. Like the JDK's channels holding a buffer's session,
 * each request on its memory holds the arena open until its completion is
 * delivered: {@code close()} meanwhile throws IllegalStateException. Compiles
 * once AioArena exists.
 */
class AioArenaTest {
    private static final int SEED = 23;
    private static final int FILE_SIZE = 8 << 20;

    @TempDir
    Path dir;

    private Path path;
    private long offsetAlignment;
    private long memoryAlignment;

    @BeforeEach
    void createFile() throws IOException {
        path = TestData.writeFile(dir.resolve("f"), FILE_SIZE, SEED);
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            offsetAlignment = Math.max(4096, file.alignment().offset());
            memoryAlignment = Math.max(4096, file.alignment().memory());
        }
    }

    @Test
    void shouldBeAnArena() {
        try (AioArena arena = AioArena.open()) {
            Arena asArena = arena;
            MemorySegment segment = asArena.allocate(offsetAlignment, memoryAlignment);
            assertThat(segment.address() % memoryAlignment).isZero();
            assertThat(segment.scope()).isEqualTo(arena.scope());
        }
    }

    @Test
    void shouldHoldEachArenaOfAVectoredContextRequestOnceAndGiveEachUseBackAtItsCompletion() throws IOException {
        // One slot, so the second request reuses the first's per-slot table of uses.
        try (AioContext context = AioContext.open(1); AioFile file = AioFile.open(path, READ,
                ExtendedOpenOption.DIRECT)) {
            AioArena first = AioArena.open();
            AioArena second = AioArena.open();
            MemorySegment a = first.allocate(offsetAlignment, memoryAlignment);
            MemorySegment b = second.allocate(offsetAlignment, memoryAlignment);
            context.prepareReadVectored(file, new MemorySegment[] {a, b, a}, 0, 1, RequestOptions.NONE);
            context.submit();
            assertThat(first.inFlight()).isEqualTo(2);
            assertThat(second.inFlight()).isEqualTo(1);
            assertThat(context.await(1, 10, TimeUnit.SECONDS, (tag, res) -> { })).isEqualTo(1);
            assertThat(first.inFlight()).isZero();
            assertThat(second.inFlight()).isZero();

            context.prepareReadVectored(file, new MemorySegment[] {b}, 0, 2, RequestOptions.NONE);
            context.submit();
            assertThat(context.await(1, 10, TimeUnit.SECONDS, (tag, res) -> { })).isEqualTo(1);
            assertThat(first.inFlight()).as("released once, not again with the next request on the slot").isZero();
            assertThat(second.inFlight()).isZero();
            first.close();
            second.close();
        }
    }

    @Test
    void shouldRefuseToCloseWhileAContextRequestOnItsMemoryIsNotYetReaped() throws IOException {
        try (AioContext context = AioContext.open(4); AioFile file = AioFile.open(path, READ,
                ExtendedOpenOption.DIRECT)) {
            AioArena arena = AioArena.open();
            MemorySegment buffer = arena.allocate(offsetAlignment, memoryAlignment);
            context.prepareRead(file, buffer, 0, 7);
            assertThatThrownBy(arena::close).as("prepared, not submitted").isInstanceOf(IllegalStateException.class);
            context.submit();
            assertThatThrownBy(arena::close).as("submitted, not reaped").isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("1");
            long[] result = {Long.MIN_VALUE};
            assertThat(context.await(1, 10, TimeUnit.SECONDS, (tag, res) -> result[0] = res)).isEqualTo(1);
            assertThat(result[0]).isEqualTo(offsetAlignment);
            assertThat(TestData.firstMismatch(buffer, 0, SEED)).as("read in place").isEqualTo(-1);
            arena.close();
            assertThat(arena.scope().isAlive()).isFalse();
            assertThatThrownBy(() -> buffer.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void shouldRefuseToCloseWhileAnAsynchronousChannelReadIsInFlightAndCloseOnceItCompleted() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                    ExtendedOpenOption.DIRECT)) {
                int refused = 0;
                for (int i = 0; i < 50; i++) {
                    AioArena arena = AioArena.open();
                    MemorySegment buffer = arena.allocate(FILE_SIZE / 2, memoryAlignment);
                    CompletableFuture<Integer> read = channel.readAsync(buffer.asByteBuffer(), 0);
                    try {
                        arena.close();
                        assertThat(read).as("try %d: the arena closed, so the read had completed", i).isDone();
                    } catch (IllegalStateException inFlight) {
                        refused++;
                        assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(FILE_SIZE / 2);
                        assertThat(TestData.firstMismatch(buffer, 0, SEED)).isEqualTo(-1);
                        arena.close();
                    }
                    assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(FILE_SIZE / 2);
                }
                assertThat(refused).as("closes refused with a 4 MiB direct read in flight, of 50").isPositive();
            }
        });
    }

    @Test
    void shouldRefuseToCloseWhileAnEngineReadIsInFlight() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ,
                    ExtendedOpenOption.DIRECT)) {
                int refused = 0;
                for (int i = 0; i < 50; i++) {
                    AioArena arena = AioArena.open();
                    MemorySegment buffer = arena.allocate(FILE_SIZE / 2, memoryAlignment);
                    CompletableFuture<Integer> read = engine.read(file, buffer, 0);
                    try {
                        arena.close();
                        assertThat(read).as("try %d: the arena closed, so the read had completed", i).isDone();
                    } catch (IllegalStateException inFlight) {
                        refused++;
                        assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(FILE_SIZE / 2);
                        arena.close();
                    }
                }
                assertThat(refused).as("closes refused with a 4 MiB direct read in flight, of 50").isPositive();
            }
        });
    }

    @Test
    void shouldRefuseToCloseWhileABlockingChannelReadOnAnotherThreadIsInFlight() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
                int refused = 0;
                for (int i = 0; i < 50; i++) {
                    AioArena arena = AioArena.open();
                    MemorySegment buffer = arena.allocate(FILE_SIZE / 2, memoryAlignment);
                    CompletableFuture<Integer> read = new CompletableFuture<>();
                    Thread reader = new Thread(() -> {
                        try {
                            read.complete(channel.read(buffer.asByteBuffer(), 0));
                        } catch (Throwable t) {
                            read.completeExceptionally(t);
                        }
                    });
                    reader.start();
                    while (!read.isDone() && reader.getState() != Thread.State.WAITING
                            && reader.getState() != Thread.State.TIMED_WAITING) {
                        Thread.onSpinWait(); // until the reader parks for its read's completion
                    }
                    try {
                        arena.close();
                        assertThat(read.get(10, TimeUnit.SECONDS)).as("try %d", i).isEqualTo(FILE_SIZE / 2);
                    } catch (IllegalStateException inFlight) {
                        refused++;
                        assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(FILE_SIZE / 2);
                        arena.close();
                    }
                    reader.join(10_000);
                }
                assertThat(refused).as("closes refused with a 4 MiB direct read in flight, of 50").isPositive();
            }
        });
    }

    @Test
    void shouldRefuseToCloseWhileARequestOnItsMemoryIsInFlightAndCloseOnceItHasCompleted() throws Exception {
        Path path = this.path;
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
        Path path = this.path;
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
        Path path = this.path;
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
        Path path = this.path;
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
