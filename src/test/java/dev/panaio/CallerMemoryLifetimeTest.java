package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Issue 8, §1: the kernel never writes into memory the caller could free.
 *
 * <p>Each test repeats the sequence at one level of the API: a read
 * into memory of a caller's shared {@link Arena} on an O_DIRECT file, then
 * {@code arena.close()} while the read is in flight, then fresh allocations,
 * which the allocator zero-fills and often places where the freed memory was.
 * The file holds a pattern with no zero byte, so a non-zero byte in a fresh
 * allocation is the kernel writing into freed memory. Whether {@code close()}
 * is refused while the read runs (as with the JDK's channels), or succeeds and
 * the read completes with a failure (panaio copied through its own memory),
 * both are safe; what must never happen is a fresh allocation holding file
 * bytes. Every request must complete exactly once either way.
 */
class CallerMemoryLifetimeTest {
    private static final int SEED = 11;
    private static final int TRIES = 1000;
    /** Tries stop early after this long, to keep each test to a few seconds. */
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(4);
    /** Fresh allocations made after each close, where the freed memory may come back. */
    private static final int FRESH = 4;

    @TempDir
    Path dir;

    private Path path;
    private long size;
    private long memoryAlignment;

    @BeforeEach
    void createFile() throws IOException {
        path = TestData.writeFile(dir.resolve("f"), 1 << 20, SEED);
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            DirectAlignment alignment = file.alignment();
            memoryAlignment = Math.max(4096, alignment.memory());
            size = 30 * Math.max(4096, alignment.offset()); // 122880 bytes on 4 KiB blocks, as in the issue
        }
    }

    @Test
    void shouldNeverLetAnAsynchronousChannelReadWriteIntoFreedMemory() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                    ExtendedOpenOption.DIRECT)) {
                AtomicInteger completions = new AtomicInteger();
                Tally tally = new Tally();
                for (int i = 0; i < TRIES && tally.withinBudget(); i++) {
                    Arena arena = Arena.ofShared();
                    MemorySegment buffer = arena.allocate(size, memoryAlignment);
                    CompletableFuture<Void> done = new CompletableFuture<>();
                    channel.read(buffer.asByteBuffer(), 0, null, countingHandler(completions, done));
                    tally.closeAndReallocate(arena, () -> awaitQuietly(done));
                }
                tally.assertNoForeignWrites();
                assertExactlyOnce(completions, tally.tries);
            }
        });
    }

    @Test
    void shouldNeverLetABlockingChannelReadWriteIntoMemoryAnotherThreadFreed() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
                Tally tally = new Tally();
                AtomicInteger returned = new AtomicInteger();
                for (int i = 0; i < TRIES && tally.withinBudget(); i++) {
                    Arena arena = Arena.ofShared();
                    MemorySegment buffer = arena.allocate(size, memoryAlignment);
                    readThenClose(tally, arena, returned, () -> channel.read(buffer.asByteBuffer(), 0));
                }
                tally.assertNoForeignWrites();
                assertThat(returned.get()).as("reads that returned or threw").isEqualTo(tally.tries);
            }
        });
    }

    @Test
    void shouldNeverLetAnEngineReadWriteIntoFreedMemory() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ,
                    ExtendedOpenOption.DIRECT)) {
                AtomicInteger completions = new AtomicInteger();
                Tally tally = new Tally();
                for (int i = 0; i < TRIES && tally.withinBudget(); i++) {
                    Arena arena = Arena.ofShared();
                    MemorySegment buffer = arena.allocate(size, memoryAlignment);
                    CompletableFuture<Integer> read = engine.read(file, buffer, 0);
                    read.whenComplete((n, error) -> completions.incrementAndGet());
                    tally.closeAndReallocate(arena, () -> awaitQuietly(read));
                }
                tally.assertNoForeignWrites();
                assertExactlyOnce(completions, tally.tries);
            }
        });
    }

    @Test
    void shouldNeverLetAVectoredEngineReadWriteIntoFreedMemory() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ,
                    ExtendedOpenOption.DIRECT)) {
                AtomicInteger completions = new AtomicInteger();
                Tally tally = new Tally();
                long part = size / 3 / 4096 * 4096;
                for (int i = 0; i < TRIES && tally.withinBudget(); i++) {
                    Arena arena = Arena.ofShared();
                    MemorySegment buffer = arena.allocate(size, memoryAlignment);
                    MemorySegment[] parts = {buffer.asSlice(0, part), buffer.asSlice(part, part),
                            buffer.asSlice(2 * part, size - 2 * part)};
                    CompletableFuture<Integer> read = engine.readVectored(file, parts, 0);
                    read.whenComplete((n, error) -> completions.incrementAndGet());
                    tally.closeAndReallocate(arena, () -> awaitQuietly(read));
                }
                tally.assertNoForeignWrites();
                assertExactlyOnce(completions, tally.tries);
            }
        });
    }

    @Test
    void shouldNeverLetAScatteringChannelReadWriteIntoMemoryAnotherThreadFreed() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
                Tally tally = new Tally();
                AtomicInteger returned = new AtomicInteger();
                long part = size / 3 / 4096 * 4096;
                for (int i = 0; i < TRIES && tally.withinBudget(); i++) {
                    Arena arena = Arena.ofShared();
                    MemorySegment buffer = arena.allocate(size, memoryAlignment);
                    ByteBuffer[] parts = {buffer.asSlice(0, part).asByteBuffer(),
                            buffer.asSlice(part, part).asByteBuffer(),
                            buffer.asSlice(2 * part, size - 2 * part).asByteBuffer()};
                    readThenClose(tally, arena, returned, () -> channel.position(0).read(parts));
                }
                tally.assertNoForeignWrites();
                assertThat(returned.get()).as("reads that returned or threw").isEqualTo(tally.tries);
            }
        });
    }

    @Test
    void shouldNeverLetAContextReadWriteIntoFreedMemory() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (AioContext context = AioContext.open(8); AioFile file = AioFile.open(path, READ,
                    ExtendedOpenOption.DIRECT)) {
                AtomicInteger completions = new AtomicInteger();
                Tally tally = new Tally();
                for (int i = 0; i < TRIES && tally.withinBudget(); i++) {
                    Arena arena = Arena.ofShared();
                    MemorySegment buffer = arena.allocate(size, memoryAlignment);
                    long tag = i;
                    context.prepareRead(file, buffer, 0, tag);
                    context.submit();
                    tally.closeAndReallocate(arena, () -> {
                        int reaped = context.await(1, 10, TimeUnit.SECONDS, (t, result) -> {
                            assertThat(t).isEqualTo(tag);
                            completions.incrementAndGet();
                        });
                        assertThat(reaped).as("completions of try %d", tag).isEqualTo(1);
                    });
                }
                tally.assertNoForeignWrites();
                assertThat(context.inFlight()).isZero();
                assertThat(completions.get()).isEqualTo(tally.tries);
            }
        });
    }

    @Test
    void shouldRefuseAThreadConfinedBufferForAnAsynchronousChannelRequest() throws IOException {
        try (Arena confined = Arena.ofConfined();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ, WRITE,
                     ExtendedOpenOption.DIRECT)) {
            ByteBuffer buffer = confined.allocate(size, memoryAlignment).asByteBuffer();
            assertThatThrownBy(() -> channel.read(buffer, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("thread confined");
            assertThatThrownBy(() -> channel.readAsync(buffer, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("thread confined");
            assertThatThrownBy(() -> channel.read(buffer, 0, null, countingHandler(new AtomicInteger(),
                    new CompletableFuture<>())))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("thread confined");
            assertThatThrownBy(() -> channel.write(buffer, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("thread confined");
            assertThatThrownBy(() -> channel.writeAsync(buffer, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("thread confined");
        }
    }

    @Test
    void shouldRefuseAThreadConfinedSegmentForAnEngineRequest() throws Exception {
        try (Arena confined = Arena.ofConfined(); AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment buffer = confined.allocate(size, memoryAlignment);
            assertRefusedAsThreadConfined(() -> engine.read(file, buffer, 0));
            assertRefusedAsThreadConfined(() -> engine.write(file, buffer, 0));
        }
    }

    /** Refused at once, or the future failed at once (the engine's other argument errors are thrown). */
    private static void assertRefusedAsThreadConfined(java.util.concurrent.Callable<CompletableFuture<Integer>> call)
            throws InterruptedException {
        Throwable refusal;
        try {
            CompletableFuture<Integer> future = call.call();
            try {
                future.get(10, TimeUnit.SECONDS);
                refusal = null;
            } catch (ExecutionException e) {
                refusal = e.getCause();
            }
        } catch (Exception e) {
            refusal = e;
        }
        assertThat(refusal).as("a thread-confined segment given to another thread's I/O")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("thread confined");
    }

    private static CompletionHandler<Integer, Void> countingHandler(AtomicInteger count, CompletableFuture<Void> done) {
        return new CompletionHandler<>() {
            @Override
            public void completed(Integer result, Void attachment) {
                count.incrementAndGet();
                done.complete(null);
            }

            @Override
            public void failed(Throwable error, Void attachment) {
                count.incrementAndGet();
                done.complete(null);
            }
        };
    }

    private static void awaitQuietly(CompletableFuture<?> future) throws Exception {
        try {
            future.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException failedIsFine) {
            // a read whose buffer's arena closed may fail; it must still complete
        }
    }

    /** Completions counted after a pause: a second delivery would show here. */
    private static void assertExactlyOnce(AtomicInteger completions, int requests) throws InterruptedException {
        Thread.sleep(100);
        assertThat(completions.get()).as("completions of %d requests", requests).isEqualTo(requests);
    }

    /** What the tries found: how often close() succeeded in flight, and how often freed memory was written. */
    /** A blocking read, which may be refused or fail: what matters is where the kernel wrote. */
    @FunctionalInterface
    private interface BlockingRead {
        void run() throws IOException;
    }

    /**
     * Runs {@code read} on a thread of its own and closes {@code arena} once
     * that thread parks (its read is in the kernel) or the read has returned.
     */
    private static void readThenClose(Tally tally, Arena arena, AtomicInteger returned, BlockingRead read)
            throws Exception {
        CompletableFuture<Void> reader = new CompletableFuture<>();
        Thread readerThread = new Thread(() -> {
            try {
                read.run();
            } catch (IOException | RuntimeException refusedOrFailed) {
                // either is fine; what matters is where the kernel wrote
            }
            returned.incrementAndGet();
            reader.complete(null);
        });
        readerThread.start();
        while (!reader.isDone() && readerThread.getState() != Thread.State.WAITING
                && readerThread.getState() != Thread.State.TIMED_WAITING) {
            Thread.onSpinWait();
        }
        tally.closeWhileOrAfter(arena, reader);
    }

    private final class Tally {
        private final long start = System.nanoTime();
        int tries;
        int closedInFlight;
        int foreignWrites;

        boolean withinBudget() {
            return System.nanoTime() - start < BUDGET_NANOS;
        }

        /** Closes the arena at once; if refused, waits for the request and closes it then. */
        void closeAndReallocate(Arena arena, ThrowingRunnable awaitCompletion) throws Exception {
            tries++;
            boolean closed = tryClose(arena);
            if (closed) {
                closedInFlight++;
            }
            List<Fresh> fresh = allocateFresh();
            awaitCompletion.run();
            if (!closed) {
                arena.close();
            }
            inspect(fresh);
        }

        /** Keeps trying to close the arena while the reader runs; then reallocates. */
        void closeWhileOrAfter(Arena arena, CompletableFuture<Void> reader) throws Exception {
            tries++;
            boolean closed = false;
            while (!closed && !reader.isDone()) {
                closed = tryClose(arena);
            }
            List<Fresh> fresh = closed ? allocateFresh() : List.of();
            if (closed) {
                closedInFlight++;
            }
            reader.get(10, TimeUnit.SECONDS);
            if (!closed) {
                arena.close();
            }
            inspect(fresh);
        }

        private List<Fresh> allocateFresh() {
            List<Fresh> fresh = new ArrayList<>();
            for (int k = 0; k < FRESH; k++) {
                Arena arena = Arena.ofShared();
                fresh.add(new Fresh(arena, arena.allocate(size, memoryAlignment))); // zero-filled by allocate
            }
            return fresh;
        }

        /** Counts the fresh allocations the kernel wrote file bytes into, then frees them. */
        private void inspect(List<Fresh> fresh) {
            for (Fresh allocation : fresh) {
                if (!isZero(allocation.segment())) {
                    foreignWrites++;
                }
                allocation.arena().close();
            }
        }

        void assertNoForeignWrites() {
            assertThat(foreignWrites).as("fresh allocations holding the file's bytes, in %d tries (%d closed with "
                    + "the read in flight)", tries, closedInFlight).isZero();
        }
    }

    private record Fresh(Arena arena, MemorySegment segment) {
    }

    private static boolean isZero(MemorySegment segment) {
        try (Arena scratch = Arena.ofConfined()) {
            return segment.mismatch(scratch.allocate(segment.byteSize())) == -1;
        }
    }

    private static boolean tryClose(Arena arena) {
        try {
            arena.close();
            return true;
        } catch (IllegalStateException inUse) {
            return false;
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }
}
