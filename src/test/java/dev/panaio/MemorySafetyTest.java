package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 8 §1 at every level: a caller closes the arena of a buffer while a
 * read into it is in flight on an O_DIRECT file. The kernel must never write
 * into the freed memory (fresh zeroed allocations never hold file bytes), and
 * every request completes exactly once.
 */
class MemorySafetyTest {
    private static final int SEED = 41;
    private static final int SIZE = 122_880;
    private static final int TRIES = 100;

    @TempDir
    Path dir;

    private Path file() throws Exception {
        return TestData.writeFile(dir.resolve("data"), 4 << 20, SEED);
    }

    /** Fresh allocations (which the freed memory may be reused for) must be zero: no late kernel write. */
    private static void assertFreshMemoryIsZero(List<Arena> keep) {
        for (int i = 0; i < 8; i++) {
            Arena fresh = Arena.ofShared();
            keep.add(fresh);
            MemorySegment segment = fresh.allocate(SIZE, 4096);
            for (long at = 0; at < SIZE; at += 8) {
                if (segment.get(ValueLayout.JAVA_LONG_UNALIGNED, at) != 0) {
                    throw new AssertionError("a fresh, zeroed allocation holds file bytes at " + at
                            + ": the kernel wrote into freed memory");
                }
            }
        }
        Thread.onSpinWait();
    }

    private static void closeAll(List<Arena> arenas) {
        arenas.forEach(Arena::close);
        arenas.clear();
    }

    @Test
    void shouldNeverLetTheKernelWriteIntoAClosedArenaThroughTheAsynchronousChannel() throws Exception {
        Path path = file();
        List<Arena> fresh = new ArrayList<>();
        int completed = 0;
        int failedCopyBack = 0;
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                ExtendedOpenOption.DIRECT)) {
            for (int i = 0; i < TRIES; i++) {
                Arena arena = Arena.ofShared();
                ByteBuffer buffer = arena.allocate(SIZE, 4096).asByteBuffer();
                CompletableFuture<Integer> read = channel.readAsync(buffer, (i % 32) * (long) SIZE);
                arena.close(); // the caller's right: panaio must not hand this memory to the kernel
                assertFreshMemoryIsZero(fresh);
                try {
                    assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(SIZE);
                    completed++;
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("the buffer's arena was closed while the read was in flight");
                    failedCopyBack++;
                }
                closeAll(fresh);
            }
        }
        assertThat(completed + failedCopyBack).isEqualTo(TRIES);
    }

    @Test
    void shouldNeverLetTheKernelWriteIntoAnArenaAnotherThreadClosesDuringABlockingRead() throws Exception {
        Path path = file();
        List<Arena> fresh = new ArrayList<>();
        AtomicInteger outcomes = new AtomicInteger();
        try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
            for (int i = 0; i < TRIES; i++) {
                Arena arena = Arena.ofShared();
                ByteBuffer buffer = arena.allocate(SIZE, 4096).asByteBuffer();
                CountDownLatch started = new CountDownLatch(1);
                long position = (i % 32) * (long) SIZE;
                Thread reader = Thread.ofPlatform().start(() -> {
                    started.countDown();
                    try {
                        int n = channel.read(buffer, position);
                        assertThat(n).isEqualTo(SIZE);
                    } catch (IllegalStateException e) {
                        assertThat(e).hasMessageContaining("arena");
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    outcomes.incrementAndGet();
                });
                started.await();
                // Let the read reach the kernel most of the time: the race must be lost both ways.
                java.util.concurrent.locks.LockSupport.parkNanos((i % 10) * 50_000L);
                arena.close();
                assertFreshMemoryIsZero(fresh);
                reader.join(10_000);
                assertThat(reader.isAlive()).isFalse();
                closeAll(fresh);
            }
        }
        assertThat(outcomes.get()).isEqualTo(TRIES);
    }

    @Test
    void shouldNeverLetTheKernelWriteIntoAClosedArenaThroughTheEngine() throws Exception {
        Path path = file();
        List<Arena> fresh = new ArrayList<>();
        int outcomes = 0;
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            for (int i = 0; i < TRIES; i++) {
                Arena arena = Arena.ofShared();
                CompletableFuture<Integer> read = engine.read(file, arena.allocate(SIZE, 4096),
                        (i % 32) * (long) SIZE);
                arena.close();
                assertFreshMemoryIsZero(fresh);
                try {
                    assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(SIZE);
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("the buffer's arena was closed while the read was in flight");
                }
                outcomes++;
                closeAll(fresh);
            }
        }
        assertThat(outcomes).isEqualTo(TRIES);
    }

    @Test
    void shouldDeliverEfaultOnceWhenTheArenaOfAContextReadIsClosedInFlight() throws Exception {
        Path path = file();
        List<Arena> fresh = new ArrayList<>();
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            for (int i = 0; i < TRIES / 4; i++) {
                Arena arena = Arena.ofShared();
                aio.prepareRead(file, arena.allocate(SIZE, 4096), (i % 32) * (long) SIZE, i);
                aio.submit();
                arena.close();
                assertFreshMemoryIsZero(fresh);
                List<Long> results = new ArrayList<>();
                aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> results.add(result));
                assertThat(results).containsExactly(-14L); // -EFAULT: the copy back found the arena closed
                closeAll(fresh);
            }
        }
    }

    @Test
    void shouldCopyAReadBackIntoACallersArenaThatStaysOpen() throws Exception {
        Path path = file();
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(SIZE, 4096);
            aio.prepareRead(file, dst, SIZE, 1);
            aio.submit();
            List<Long> results = new ArrayList<>();
            aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> results.add(result));
            assertThat(results).containsExactly((long) SIZE);
            assertThat(TestData.firstMismatch(dst, SIZE, SEED)).isEqualTo(-1);
        }
    }

    @Test
    void shouldRefuseAThreadConfinedBufferForAsynchronousUse() throws Exception {
        Path path = file();
        try (Arena confined = Arena.ofConfined(); AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                     ExtendedOpenOption.DIRECT)) {
            MemorySegment block = confined.allocate(4096, 4096);
            assertThatThrownBy(() -> engine.read(file, block, 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("Buffer is thread confined");
            assertThatThrownBy(() -> engine.write(file, block, 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("Buffer is thread confined");
            assertThatThrownBy(() -> channel.readAsync(block.asByteBuffer(), 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Buffer is thread confined");
            assertThatThrownBy(() -> channel.read(block.asByteBuffer(), 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Buffer is thread confined");
        }
    }

    @Test
    void shouldHoldTheBuffersSessionDuringAnInlinePageCacheRead() throws Exception {
        Path path = file();
        // A buffered channel reads the page cache on the calling thread: the arena's session is held for that
        // call, so a close() racing it throws rather than freeing memory the kernel copies into.
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            for (int i = 0; i < TRIES; i++) {
                Arena arena = Arena.ofShared();
                ByteBuffer buffer = arena.allocate(SIZE, 4096).asByteBuffer();
                assertThat(channel.read(buffer, 0)).isEqualTo(SIZE);
                assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(buffer.flip()), 0, SEED)).isEqualTo(-1);
                arena.close();
            }
        }
    }

    @Test
    void shouldDeliverEfaultWhenAConfinedBufferIsReapedOnAnotherThread() throws Exception {
        Path path = file();
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             Arena confined = Arena.ofConfined()) {
            MemorySegment dst = confined.allocate(4096, 4096);
            aio.prepareRead(file, dst, 0, 1); // a context may take confined memory: it is copied
            aio.submit();
            List<Long> results = new ArrayList<>();
            Thread other = Thread.ofPlatform().start(
                    () -> aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> results.add(result)));
            other.join(10_000);
            assertThat(results).containsExactly(-14L); // the reaping thread may not touch it: -EFAULT
            assertThat(dst.get(ValueLayout.JAVA_LONG, 0)).isZero(); // the kernel wrote only the context's memory
        }
    }

    @Test
    void shouldWriteTheBytesACallersArenaHeldWhenTheWriteWasPrepared() throws Exception {
        Path path = file();
        try (AioContext aio = AioContext.open(4);
             AioFile file = AioFile.open(path, READ, java.nio.file.StandardOpenOption.WRITE,
                     ExtendedOpenOption.DIRECT)) {
            Arena arena = Arena.ofShared();
            MemorySegment src = arena.allocate(4096, 4096);
            src.fill((byte) 7);
            aio.prepareWrite(file, src, 0, 1); // copied in now
            arena.close(); // before submit: the kernel reads only the context's copy
            List<Arena> reuse = new ArrayList<>();
            for (int i = 0; i < 8; i++) { // whatever reuses the freed memory must not reach the file
                Arena other = Arena.ofShared();
                reuse.add(other);
                other.allocate(4096, 4096).fill((byte) 8);
            }
            aio.submit();
            List<Long> results = new ArrayList<>();
            aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> results.add(result));
            assertThat(results).containsExactly(4096L);
            closeAll(reuse);
            byte[] written = java.nio.file.Files.readAllBytes(path);
            for (int i = 0; i < 4096; i++) {
                assertThat(written[i]).as("byte %d", i).isEqualTo((byte) 7);
            }
        }
    }
}
