package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.LoopDevice;
import dev.panaio.testing.TestData;
import dev.panaio.testing.ThrottledReads;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A close that provably lands while a direct read is inside the kernel. The
 * file lives on an ext4 loop device whose reads the block layer's throttle
 * holds (ThrottledReads): the read's bio has reached the device's queue
 * (the throttle counted it) but the device has completed no read since, and
 * it cannot until the test lifts the limit. Everything asserted "while held"
 * is therefore true while the kernel still owns the buffer, whatever the
 * machine's speed.
 *
 * <p>The JDK's channels, measured here beside panaio's: a read that the kernel
 * finishes after the close returns its whole count (a file read cannot be
 * interrupted, and the JDK reports AsynchronousCloseException only for a
 * call that transferred nothing), and the JDK's {@code close()} waits for the
 * read. panaio gives the read the same outcome, but its {@code close()}
 * returns at once: the request in the kernel keeps its own use of the file
 * and of the buffer (the caller's memory, or a bounce buffer that stays
 * borrowed) until its completion is reaped. Closing the engine instead waits
 * for the kernel, as {@code io_destroy} does. (AsynchronousCloseException for
 * a direct read comes when the close lands before the request reaches the
 * kernel: FaultInterruptTest holds it in the engine's queue for that.)
 */
class CloseDuringKernelReadTest {
    private static final int SEED = 15;
    private static final int READ_SIZE = 64 << 10;
    private static final int BLOCK = 4096;
    /** How long a call may take before the test calls it hung. */
    private static final int HANG_SECONDS = 10;
    /** How long a close the JDK makes wait is watched for returning early: not a bound on anything. */
    private static final int WATCH_MILLIS = 300;

    @TempDir
    Path dir;

    /** Who reads, who closes what, and into which memory. */
    enum Row {
        /** AioFileChannel.read on a platform thread, into an aligned ByteBuffer.allocateDirect (in place). */
        PANAIO_BLOCKING_DIRECT_BUFFER(true, false),
        /** AioFileChannel.read on a virtual thread, into a heap buffer (bounced through the engine's pool). */
        PANAIO_BLOCKING_HEAP_BUFFER(true, false),
        /** AioAsynchronousFileChannel.read with a CompletionHandler, into AioArena memory (in place, use held). */
        PANAIO_HANDLER_AIO_ARENA(true, false),
        /** AioAsynchronousFileChannel.read with a CompletionHandler, into a heap buffer (bounced). */
        PANAIO_HANDLER_HEAP_BUFFER(true, false),
        /** As PANAIO_HANDLER_AIO_ARENA, but the engine is closed rather than the channel. */
        PANAIO_ENGINE_CLOSED(true, true),
        /** The JDK's FileChannel, opened with ExtendedOpenOption.DIRECT. */
        JDK_BLOCKING(false, true),
        /** The JDK's AsynchronousFileChannel, opened with ExtendedOpenOption.DIRECT. */
        JDK_HANDLER(false, true);

        final boolean panaio;
        /** Whether close() waits for the read: the JDK's channels, and panaio's engine. */
        final boolean closeWaits;

        Row(boolean panaio, boolean closeWaits) {
            this.panaio = panaio;
            this.closeWaits = closeWaits;
        }

        boolean blocking() {
            return this == PANAIO_BLOCKING_DIRECT_BUFFER || this == PANAIO_BLOCKING_HEAP_BUFFER
                    || this == JDK_BLOCKING;
        }

        boolean bounced() {
            return this == PANAIO_BLOCKING_HEAP_BUFFER || this == PANAIO_HANDLER_HEAP_BUFFER;
        }
    }

    /** What the reader saw: each delivery counted, so a second one shows. */
    private static final class Outcome implements CompletionHandler<Integer, Void> {
        final AtomicReference<Object> first = new AtomicReference<>();
        final AtomicInteger deliveries = new AtomicInteger();
        final CountDownLatch done = new CountDownLatch(1);

        void deliver(Object result) {
            deliveries.incrementAndGet();
            first.compareAndSet(null, result);
            done.countDown();
        }

        @Override
        public void completed(Integer n, Void attachment) {
            deliver(n);
        }

        @Override
        public void failed(Throwable error, Void attachment) {
            deliver(error);
        }
    }

    @ParameterizedTest
    @EnumSource
    void shouldFinishAReadHeldInTheKernelWhenItsChannelIsClosedAndNeverHandBackTheBufferEarly(Row row)
            throws Exception {
        try (LoopDevice loop = LoopDevice.create(dir, 64L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("data"), 1 << 20, SEED);
            try (FileChannel file = FileChannel.open(path, WRITE)) {
                file.force(true); // nothing for the direct read to write back first
            }
            try (AioEngine engine = AioEngine.open(); AioArena aioArena = AioArena.open();
                 ThrottledReads throttle = ThrottledReads.hold(loop.device())) {
                run(row, path, loop.device(), throttle, engine, aioArena);
            }
        }
    }

    private void run(Row row, Path path, String device, ThrottledReads throttle, AioEngine engine, AioArena aioArena)
            throws Exception {
        ByteBuffer buffer = switch (row) {
            case PANAIO_BLOCKING_HEAP_BUFFER, PANAIO_HANDLER_HEAP_BUFFER -> ByteBuffer.allocate(READ_SIZE);
            case PANAIO_HANDLER_AIO_ARENA, PANAIO_ENGINE_CLOSED -> aioArena.allocate(READ_SIZE, BLOCK).asByteBuffer();
            default -> ByteBuffer.allocateDirect(READ_SIZE + BLOCK).alignedSlice(BLOCK).limit(READ_SIZE);
        };
        Set<java.nio.file.OpenOption> options = Set.of(READ, ExtendedOpenOption.DIRECT);
        Outcome outcome = new Outcome();
        long queuedBefore = throttle.queuedReads();
        long completedBefore = completedReads(device);
        Channel channel;
        Thread reader = null;
        switch (row) {
            case PANAIO_BLOCKING_DIRECT_BUFFER, PANAIO_BLOCKING_HEAP_BUFFER, JDK_BLOCKING -> {
                FileChannel blocking = row.panaio ? AioFileChannel.open(path, options, engine)
                        : FileChannel.open(path, options);
                channel = blocking;
                Runnable read = () -> {
                    try {
                        outcome.deliver(blocking.read(buffer, 0));
                    } catch (Throwable t) {
                        outcome.deliver(t);
                    }
                };
                reader = row == Row.PANAIO_BLOCKING_HEAP_BUFFER ? Thread.ofVirtual().start(read)
                        : Thread.ofPlatform().start(read);
            }
            default -> {
                AsynchronousFileChannel async = row.panaio
                        ? AioAsynchronousFileChannel.open(path, options, null, engine)
                        : AsynchronousFileChannel.open(path, options, null);
                channel = async;
                async.read(buffer, 0, null, outcome);
            }
        }

        try {
            // In the kernel: the throttle has counted the read's bio, and the device has completed nothing since.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
            while ((throttle.queuedReads() == queuedBefore || row.panaio && engine.stats().inFlight() != 1)
                    && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(throttle.queuedReads()).as("reads of %s the throttle has seen", device)
                    .isGreaterThan(queuedBefore);
            if (row.panaio) {
                assertThat(engine.stats().inFlight()).as("requests io_submit accepted and not yet reaped").isEqualTo(1);
            }
            assertHeld(row, device, completedBefore, outcome, engine, aioArena, "before the close");

            Thread closer = Thread.ofPlatform().start(() -> {
                try {
                    if (row == Row.PANAIO_ENGINE_CLOSED) {
                        engine.close();
                    } else {
                        channel.close();
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            if (row.closeWaits) {
                closer.join(WATCH_MILLIS);
                assertThat(closer.isAlive()).as("close() with the read held in the kernel (it waits for it): %s",
                        Arrays.toString(closer.getStackTrace())).isTrue();
            } else {
                closer.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
                assertThat(closer.isAlive()).as("close() with the read held in the kernel (it does not wait): %s",
                        Arrays.toString(closer.getStackTrace())).isFalse();
                assertThat(channel.isOpen()).isFalse();
            }
            // The close has landed (or is waiting) and the read is still in the kernel.
            assertHeld(row, device, completedBefore, outcome, engine, aioArena, "after the close");

            throttle.release();
            assertThat(outcome.done.await(HANG_SECONDS, TimeUnit.SECONDS)).as("read delivered once released").isTrue();
            if (reader != null) {
                reader.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
                assertThat(reader.isAlive()).isFalse();
            }
            closer.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertThat(closer.isAlive()).as("close() once the kernel finished the read").isFalse();
            System.out.printf("%s: %s, delivered %d time(s)%n", row, outcome.first.get(), outcome.deliveries.get());

            // As the JDK: a read the kernel finished returns its whole count, delivered once, with the file's bytes.
            assertThat(outcome.first.get()).as("outcome of the read the close landed on").isEqualTo(READ_SIZE);
            Thread.sleep(50); // a second delivery would come from the same completion: give it the time to show
            assertThat(outcome.deliveries.get()).as("deliveries of the read").isEqualTo(1);
            assertThat(buffer.position()).isEqualTo(READ_SIZE);
            assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(buffer.duplicate().flip()), 0, SEED))
                    .as("first byte of the buffer that is not the file's").isEqualTo(-1);
            assertThat(completedReads(device)).as("reads %s completed", device).isGreaterThan(completedBefore);
            if (row == Row.PANAIO_ENGINE_CLOSED) {
                channel.close();
            }
            assertThat(channel.isOpen()).isFalse();
            if (row.panaio) {
                assertThat(engine.outstanding()).isZero();
                assertThat(engine.bouncePool().outstandingBytes()).as("bounce bytes borrowed").isZero();
                assertThat(aioArena.inFlight()).as("uses of the AioArena").isZero();
            }
            if (row.blocking()) {
                assertThatThrownBy(() -> ((FileChannel) channel).read(ByteBuffer.allocate(BLOCK), 0))
                        .isInstanceOf(ClosedChannelException.class);
            }
        } finally {
            // On any failure too: a file left open would keep the loop device mounted.
            throttle.release();
            if (reader != null) {
                reader.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            }
            channel.close();
        }
    }

    /** The read has not completed: nothing delivered, and the memory it writes is still the kernel's. */
    private static void assertHeld(Row row, String device, long completedBefore, Outcome outcome, AioEngine engine,
                                   AioArena aioArena, String when) throws IOException {
        assertThat(completedReads(device)).as("reads %s completed %s", device, when).isEqualTo(completedBefore);
        assertThat(outcome.first.get()).as("outcome %s, the read held in the kernel", when).isNull();
        if (!row.panaio) {
            return;
        }
        assertThat(engine.stats().inFlight()).as("requests in the kernel %s", when).isEqualTo(1);
        if (row.bounced()) {
            assertThat(engine.bouncePool().outstandingBytes()).as("bounce bytes borrowed %s", when)
                    .isEqualTo(READ_SIZE);
        }
        if (row == Row.PANAIO_HANDLER_AIO_ARENA || row == Row.PANAIO_ENGINE_CLOSED) {
            assertThat(aioArena.inFlight()).as("uses of the AioArena %s", when).isEqualTo(1);
            assertThatThrownBy(aioArena::close).as("closing the AioArena %s", when)
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    /** Reads the device has completed: the first field of its block-layer statistics. */
    private static long completedReads(String device) throws IOException {
        String stat = Files.readString(Path.of("/sys/class/block", Path.of(device).getFileName().toString(), "stat"));
        return Long.parseLong(stat.strip().split("\\s+")[0]);
    }
}
