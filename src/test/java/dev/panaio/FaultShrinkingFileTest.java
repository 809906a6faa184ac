package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A file truncated under its readers: short counts or end of file, never garbage.
 * Part of the fault tests; see {@link FaultTesting}.
 */
class FaultShrinkingFileTest extends FaultTesting {
    @Test
    void shouldReturnShortCountsOrEndOfFileButNeverGarbageWhenTheFileShrinksUnderReads() throws Exception {
        long size = 8 << 20;
        Path path = TestData.writeFile(dir.resolve("shrinking"), size, SEED);
        // The truncating thread sets atLeast before each truncate and atMost after it: the real size is always
        // between the two.
        AtomicLong atLeast = new AtomicLong(size);
        AtomicLong atMost = new AtomicLong(size);
        Queue<String> wrong = new ConcurrentLinkedQueue<>();
        AtomicInteger reads = new AtomicInteger();
        AtomicInteger shortOrEmpty = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        try (AioEngine engine = AioEngine.builder().capacity(32).build();
             AioFile direct = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             AioFile buffered = AioFile.open(path, READ);
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, ExtendedOpenOption.DIRECT), engine);
             AioAsynchronousFileChannel async = AioAsynchronousFileChannel.open(path, Set.of(READ), null, engine)) {
            // A read may see the file at any size between the one before it started and the one after it ended.
            ReadCheck check = (position, sizeBefore, n, data) -> {
                long after = atLeast.get();
                reads.incrementAndGet();
                long most = Math.min(BLOCK, Math.max(0, sizeBefore - position));
                long least = Math.min(BLOCK, Math.max(0, after - position));
                long got = Math.max(n, 0);
                if (got < least || got > most) {
                    wrong.add("read at " + position + " returned " + n + " while the file shrank from " + sizeBefore
                            + " to " + after + " bytes");
                } else if (TestData.firstMismatch(data.asSlice(0, got), position, SEED) != -1) {
                    wrong.add("read at " + position + " returned other bytes than the file's");
                }
                if (got < BLOCK) {
                    shortOrEmpty.incrementAndGet();
                }
            };
            List<Thread> readers = new ArrayList<>();
            readers.add(Thread.ofPlatform().start(() -> readWithContext(direct, atMost, check, done, wrong)));
            for (int t = 0; t < 4; t++) {
                int id = t;
                readers.add(Thread.ofVirtual().start(() -> {
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment segment = arena.allocate(BLOCK, BLOCK);
                        ByteBuffer direct4k = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
                        SplittableRandom random = new SplittableRandom(id);
                        while (!done.get()) {
                            long position = random.nextLong(size / BLOCK) * BLOCK + (id == 3 ? 100 : 0);
                            long sizeBefore = atMost.get();
                            switch (id) {
                                case 0 -> check.seen(position, sizeBefore,
                                        engine.read(buffered, segment, position).join(), segment);
                                case 1 -> {
                                    direct4k.clear().limit(BLOCK);
                                    int n = channel.read(direct4k, position);
                                    check.seen(position, sizeBefore, n, MemorySegment.ofBuffer(direct4k.flip()));
                                }
                                default -> {
                                    ByteBuffer heap = ByteBuffer.allocate(BLOCK);
                                    int n = async.read(heap, position).get(30, TimeUnit.SECONDS);
                                    check.seen(position, sizeBefore, n, MemorySegment.ofBuffer(heap.flip()));
                                }
                            }
                        }
                    } catch (Exception e) {
                        wrong.add("reader " + id + " failed: " + e);
                    }
                }));
            }
            try (FileChannel truncator = FileChannel.open(path, WRITE)) {
                for (long newSize = size; newSize >= 0; newSize -= size / 64 + 1000) {
                    atLeast.set(newSize);
                    truncator.truncate(newSize);
                    atMost.set(newSize);
                    Thread.sleep(2);
                }
                atLeast.set(0);
                truncator.truncate(0);
                atMost.set(0);
                Thread.sleep(20);
            }
            done.set(true);
            for (Thread reader : readers) {
                reader.join(30_000);
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(reads.get()).isPositive();
        assertThat(shortOrEmpty.get()).as("reads that met the moving end of file").isPositive();
    }

    @FunctionalInterface
    private interface ReadCheck {
        void seen(long position, long sizeBefore, long result, MemorySegment data);
    }

    private static void readWithContext(AioFile file, AtomicLong atMost, ReadCheck check, AtomicBoolean done,
                                        Queue<String> wrong) {
        try (AioContext aio = AioContext.open(32); Arena arena = Arena.ofConfined()) {
            MemorySegment buffers = arena.allocate(16L * BLOCK, BLOCK);
            SplittableRandom random = new SplittableRandom(SEED);
            long[] positions = new long[16];
            long[] sizeBefore = new long[1];
            CompletionConsumer onCompletion = (tag, result) ->
                    check.seen(positions[(int) tag], sizeBefore[0], result, buffers.asSlice(tag * BLOCK, BLOCK));
            while (!done.get()) {
                sizeBefore[0] = atMost.get();
                for (int i = 0; i < 16; i++) {
                    positions[i] = random.nextLong((8 << 20) / BLOCK) * BLOCK;
                    aio.prepareRead(file, buffers.asSlice((long) i * BLOCK, BLOCK), positions[i], i);
                }
                aio.submit();
                while (aio.inFlight() > 0) {
                    aio.await(1, 10, TimeUnit.SECONDS, onCompletion);
                }
            }
        } catch (IOException | RuntimeException e) {
            wrong.add("context reader failed: " + e);
        }
    }
}
