package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A buffer handed to the kernel stays reachable until its completion: the
 * tests drop every reference of their own to direct ByteBuffers (GC-managed,
 * used in place) while their reads wait or run, and force collections. A
 * buffer collected early would show as a cleared weak reference while its
 * read waits, or as file bytes in fresh allocations that reused its memory.
 */
class BufferReachabilityTest {
    private static final int SEED = 31;
    private static final int BLOCK = 4096;
    private static final int READ_SIZE = 16 * BLOCK;
    private static final int READS = 256;
    private static final int POLLIN = 0x1;

    @TempDir
    Path dir;

    /** A direct buffer of {@code size} bytes at a 4096-byte boundary, zeroed, as allocateDirect gives. */
    private static ByteBuffer alignedDirect(int size) {
        return ByteBuffer.allocateDirect(size + BLOCK).alignedSlice(BLOCK).limit(size);
    }

    private static void collect() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(10);
        }
    }

    /** Fresh direct buffers, which may reuse memory freed meanwhile; zeroed when allocated. */
    private static void allocateFresh(List<ByteBuffer> into, int count) {
        for (int i = 0; i < count; i++) {
            into.add(ByteBuffer.allocateDirect(READ_SIZE + BLOCK));
        }
    }

    private static void assertAllZero(List<ByteBuffer> fresh) {
        ByteBuffer zero = ByteBuffer.allocateDirect(READ_SIZE + BLOCK);
        for (ByteBuffer buffer : fresh) {
            assertThat(buffer.clear().mismatch(zero.clear())).as("a fresh allocation holds file bytes: the kernel "
                    + "wrote into memory freed under it").isEqualTo(-1);
        }
    }

    private static int cleared(List<WeakReference<ByteBuffer>> refs) {
        return (int) refs.stream().filter(ref -> ref.get() == null).count();
    }

    @Test
    void shouldKeepDirectBuffersOfQueuedAndRunningChannelReadsReachableUntilDelivered() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), (long) READS * READ_SIZE, SEED);
        List<WeakReference<ByteBuffer>> buffers = new ArrayList<>();
        AtomicIntegerArray deliveries = new AtomicIntegerArray(READS);
        AtomicInteger delivered = new AtomicInteger();
        Queue<String> wrong = new ConcurrentLinkedQueue<>();
        List<ByteBuffer> fresh = new ArrayList<>();
        // The engine's one slot is held by a poll: every read waits in the engine until the gate opens.
        try (AioEngine engine = AioEngine.builder().capacity(1).build(); EventFd gate = EventFd.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                     Set.of(READ, ExtendedOpenOption.DIRECT), null, engine)) {
            CompletableFuture<Integer> poll = engine.poll(gate, POLLIN);
            CompletionHandler<Integer, Integer> handler = new CompletionHandler<>() {
                @Override
                public void completed(Integer n, Integer read) {
                    if (n != READ_SIZE) {
                        wrong.add("read " + read + " returned " + n);
                    }
                    deliveries.incrementAndGet(read);
                    delivered.incrementAndGet();
                }

                @Override
                public void failed(Throwable error, Integer read) {
                    wrong.add("read " + read + " failed: " + error);
                    deliveries.incrementAndGet(read);
                    delivered.incrementAndGet();
                }
            };
            for (int i = 0; i < READS; i++) {
                ByteBuffer buffer = alignedDirect(READ_SIZE); // the test keeps no strong reference
                buffers.add(new WeakReference<>(buffer));
                channel.read(buffer, (long) i * READ_SIZE, i, handler);
            }

            collect();
            assertThat(delivered.get()).as("reads delivered while the poll holds the slot").isZero();
            assertThat(cleared(buffers)).as("buffers collected while their reads wait in the engine").isZero();
            allocateFresh(fresh, 64);

            gate.write(1);
            assertThat(poll.get(10, TimeUnit.SECONDS) & POLLIN).isEqualTo(POLLIN);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (delivered.get() < READS && System.nanoTime() < deadline) {
                System.gc(); // while reads are in the kernel, one at a time
                allocateFresh(fresh, 4);
                Thread.sleep(1);
            }
            Thread.sleep(50); // room for a late second delivery to show
            for (int i = 0; i < READS; i++) {
                assertThat(deliveries.get(i)).as("deliveries of read %d", i).isEqualTo(1);
            }
            assertThat(wrong).isEmpty();
            assertAllZero(fresh);
            assertThat(engine.outstanding()).isZero();
        }
        collect();
        assertThat(cleared(buffers)).as("buffers collected once delivered: the test really dropped them")
                .isEqualTo(READS);
    }

    @Test
    void shouldKeepDirectBuffersReachableInAContextUntilTheirCompletionsAreReaped() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64L * READ_SIZE, SEED);
        List<WeakReference<ByteBuffer>> buffers = new ArrayList<>();
        List<ByteBuffer> fresh = new ArrayList<>();
        try (AioContext aio = AioContext.open(64);
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            for (int i = 0; i < 64; i++) {
                ByteBuffer buffer = alignedDirect(READ_SIZE);
                buffers.add(new WeakReference<>(buffer));
                aio.prepareRead(file, buffer, (long) i * READ_SIZE, i);
            }
            aio.submit();
            collect();
            assertThat(cleared(buffers)).as("buffers collected before their completions were reaped").isZero();
            allocateFresh(fresh, 64);

            AtomicIntegerArray deliveries = new AtomicIntegerArray(64);
            while (aio.inFlight() > 0) {
                aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> {
                    assertThat(result).as("result of read %d", tag).isEqualTo(READ_SIZE);
                    deliveries.incrementAndGet((int) tag);
                });
                System.gc();
            }
            for (int i = 0; i < 64; i++) {
                assertThat(deliveries.get(i)).as("deliveries of read %d", i).isEqualTo(1);
            }
            assertAllZero(fresh);
        }
        collect();
        assertThat(cleared(buffers)).as("buffers collected once reaped").isEqualTo(64);
    }
}
