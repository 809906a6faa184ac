package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.LoopDevice;
import dev.panaio.testing.PageCache;
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
import java.nio.channels.ClosedByInterruptException;
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
 * A close that provably lands while a direct read is inside the kernel (buffered
 * writes held the same way: {@link CloseDuringKernelWriteTest}). The
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
 * read: it returns with the bytes in the buffer, and the JDK's asynchronous
 * channel may call the handler before or after. panaio's channels do the
 * same, and closing the engine waits too, as {@code io_destroy} does.
 * (AsynchronousCloseException for a direct read comes when the close lands
 * before the request reaches the kernel: FaultInterruptTest holds it in the engine's
 * queue for that, and close() does not wait for such a request.)
 */
class CloseDuringKernelReadTest {
    static final int SEED = 15;
    private static final int READ_SIZE = 64 << 10;
    private static final int BLOCK = 4096;
    /** How long a call may take before the test calls it hung. */
    static final int HANG_SECONDS = 10;
    /** How long a close the JDK makes wait is watched for returning early: not a bound on anything. */
    static final int WATCH_MILLIS = 300;

    @TempDir
    Path dir;

    /** Who reads, who closes what, and into which memory. */
    enum Row {
        /** AioFileChannel.read on a platform thread, into an aligned ByteBuffer.allocateDirect (in place). */
        PANAIO_BLOCKING_DIRECT_BUFFER(true),
        /** AioFileChannel.read on a virtual thread, into a heap buffer (bounced through the engine's pool). */
        PANAIO_BLOCKING_HEAP_BUFFER(true),
        /** AioAsynchronousFileChannel.read with a CompletionHandler, into AioArena memory (in place, use held). */
        PANAIO_HANDLER_AIO_ARENA(true),
        /** AioAsynchronousFileChannel.read with a CompletionHandler, into a heap buffer (bounced). */
        PANAIO_HANDLER_HEAP_BUFFER(true),
        /** As PANAIO_HANDLER_AIO_ARENA, but the engine is closed rather than the channel. */
        PANAIO_ENGINE_CLOSED(true),
        /**
         * As PANAIO_BLOCKING_DIRECT_BUFFER on a virtual thread, but the reader
         * is interrupted instead: the interrupt closes the channel, and that
         * close waits for the read too.
         */
        PANAIO_BLOCKING_INTERRUPTED(true),
        /** The JDK's FileChannel, opened with ExtendedOpenOption.DIRECT. */
        JDK_BLOCKING(false),
        /** As JDK_BLOCKING on a virtual thread, the reader interrupted instead. */
        JDK_BLOCKING_INTERRUPTED(false),
        /** The JDK's AsynchronousFileChannel, opened with ExtendedOpenOption.DIRECT. */
        JDK_HANDLER(false);

        final boolean panaio;

        Row(boolean panaio) {
            this.panaio = panaio;
        }

        /**
         * Whether the file's bytes are in the caller's buffer by the time
         * close() returns. Not for a blocking panaio read into a heap buffer:
         * the reading thread copies the bounce buffer into it after the
         * kernel's completion, which is what close() waits for.
         */
        boolean bytesLandedAtClose() {
            return this != PANAIO_BLOCKING_HEAP_BUFFER;
        }

        boolean blocking() {
            return this == PANAIO_BLOCKING_DIRECT_BUFFER || this == PANAIO_BLOCKING_HEAP_BUFFER
                    || this == JDK_BLOCKING || interrupted();
        }

        /** Whether the reading thread is interrupted rather than the channel closed. */
        boolean interrupted() {
            return this == PANAIO_BLOCKING_INTERRUPTED || this == JDK_BLOCKING_INTERRUPTED;
        }

        boolean bounced() {
            return this == PANAIO_BLOCKING_HEAP_BUFFER || this == PANAIO_HANDLER_HEAP_BUFFER;
        }
    }

    /** What the reader saw: each delivery counted, so a second one shows. */
    static final class Outcome implements CompletionHandler<Integer, Void> {
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
            case PANAIO_BLOCKING_DIRECT_BUFFER, PANAIO_BLOCKING_HEAP_BUFFER, PANAIO_BLOCKING_INTERRUPTED, JDK_BLOCKING,
                 JDK_BLOCKING_INTERRUPTED -> {
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
                reader = row == Row.PANAIO_BLOCKING_HEAP_BUFFER || row.interrupted() ? Thread.ofVirtual().start(read)
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

            // What close() left behind the moment it returned: the kernel's requests, and the caller's buffer.
            AtomicInteger inFlightAtClose = new AtomicInteger(-1);
            AtomicReference<byte[]> bufferAtClose = new AtomicReference<>();
            AtomicReference<Object> outcomeAtClose = new AtomicReference<>();
            Thread interrupted = reader;
            AtomicReference<Boolean> closerStillInterrupted = new AtomicReference<>();
            Thread closer = Thread.ofPlatform().start(() -> {
                // An interrupted closer: the wait is not interruptible (nor is the JDK's), and the status is kept.
                Thread.currentThread().interrupt();
                try {
                    if (row == Row.PANAIO_ENGINE_CLOSED) {
                        engine.close();
                    } else if (row.interrupted()) {
                        interrupted.interrupt(); // the channel's interruptor closes it, on this thread
                    } else {
                        channel.close();
                    }
                    closerStillInterrupted.set(Thread.currentThread().isInterrupted());
                    inFlightAtClose.set(row.panaio ? (int) engine.stats().inFlight() : 0);
                    outcomeAtClose.set(outcome.first.get());
                    byte[] bytes = new byte[READ_SIZE];
                    buffer.duplicate().clear().get(bytes);
                    bufferAtClose.set(bytes);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            if (row != Row.PANAIO_ENGINE_CLOSED) {
                // The closer may not have run yet on a loaded machine: waited for, while the read stays held, so
                // that the close (or the interrupt) lands before the release, as each row needs.
                long closedBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
                while (channel.isOpen() && System.nanoTime() < closedBy) {
                    Thread.sleep(1);
                }
                assertThat(channel.isOpen()).as("isOpen() while close() waits").isFalse();
            }
            // Not a bound on anything: close() returning within it while the read is held is the failure.
            closer.join(WATCH_MILLIS);
            assertThat(closer.isAlive()).as("close() with the read held in the kernel (it waits for it): %s",
                    Arrays.toString(closer.getStackTrace())).isTrue();
            // The close is waiting and the read is still in the kernel.
            assertHeld(row, device, completedBefore, outcome, engine, aioArena, "after the close");

            throttle.release();
            assertThat(outcome.done.await(HANG_SECONDS, TimeUnit.SECONDS)).as("read delivered once released").isTrue();
            if (reader != null) {
                reader.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
                assertThat(reader.isAlive()).isFalse();
            }
            closer.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertThat(closer.isAlive()).as("close() once the kernel finished the read").isFalse();
            System.out.printf("%s: %s, delivered %d time(s); delivered when close() returned: %s%n", row,
                    outcome.first.get(), outcome.deliveries.get(), outcomeAtClose.get());
            // close() returned only once the kernel had finished: nothing in flight, the bytes in place.
            assertThat(inFlightAtClose.get()).as("requests in the kernel when close() returned").isZero();
            assertThat(closerStillInterrupted.get()).as("the closer's interrupt status after close()").isTrue();
            if (row.bytesLandedAtClose()) {
                assertThat(TestData.firstMismatch(MemorySegment.ofArray(bufferAtClose.get()), 0, SEED))
                        .as("first byte of the buffer that was not the file's when close() returned").isEqualTo(-1);
            }

            // As the JDK: a read the kernel finished returns its whole count, delivered once, with the file's bytes.
            // Interrupted, it throws ClosedByInterruptException all the same (end() says so whatever was read),
            // with the bytes in the buffer and its position advanced.
            if (row.interrupted()) {
                assertThat(outcome.first.get()).as("outcome of the interrupted read")
                        .isInstanceOf(ClosedByInterruptException.class);
            } else {
                assertThat(outcome.first.get()).as("outcome of the read the close landed on").isEqualTo(READ_SIZE);
            }
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

    /** Whose asynchronous channel. */
    enum Side { PANAIO, JDK }

    /**
     * A handler that closes its own channel while another read of that
     * channel is in the kernel: a buffered read that missed the page cache,
     * held by the throttle inside the pool thread's pread. The handler runs on
     * the channel's executor, which that read does not need, so the close
     * waits for the read, on the JDK's channel and on panaio's, and returns
     * once the kernel has finished it; the read returns its whole count.
     */
    @ParameterizedTest
    @EnumSource
    void shouldWaitInAHandlersCloseForAnotherReadOfTheChannelInTheKernel(Side side) throws Exception {
        try (LoopDevice loop = LoopDevice.create(dir, 64L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("data"), 1 << 20, SEED);
            PageCache.cacheOnlyTheFirst(path, BLOCK); // a read of the first block hits; one further on goes to disk
            try (AioEngine engine = AioEngine.open(); ThrottledReads throttle = ThrottledReads.hold(loop.device())) {
                AsynchronousFileChannel channel = side == Side.PANAIO
                        ? AioAsynchronousFileChannel.open(path, Set.of(READ), null, engine)
                        : AsynchronousFileChannel.open(path, Set.of(READ), null);
                try {
                    long completedBefore = completedReads(loop.device());
                    long queuedBefore = throttle.queuedReads();
                    Outcome held = new Outcome();
                    ByteBuffer heldBuffer = ByteBuffer.allocate(READ_SIZE);
                    long heldAt = 512 << 10;
                    channel.read(heldBuffer, heldAt, null, held);
                    awaitQueued(throttle, queuedBefore);
                    assertThat(completedReads(loop.device())).as("reads the device completed").isEqualTo(completedBefore);
                    assertThat(held.first.get()).as("outcome of the read held in the kernel").isNull();

                    AtomicReference<Object> cached = new AtomicReference<>();
                    AtomicReference<IOException> closeFailure = new AtomicReference<>();
                    CountDownLatch handlerRan = new CountDownLatch(1);
                    CountDownLatch closeReturned = new CountDownLatch(1);
                    channel.read(ByteBuffer.allocate(BLOCK), 0, null, new CompletionHandler<Integer, Void>() {
                        @Override
                        public void completed(Integer n, Void attachment) {
                            cached.set(n);
                            handlerRan.countDown();
                            try {
                                channel.close();
                            } catch (IOException e) {
                                closeFailure.set(e);
                            }
                            closeReturned.countDown();
                        }

                        @Override
                        public void failed(Throwable error, Void attachment) {
                            cached.set(error);
                            handlerRan.countDown();
                        }
                    });
                    assertThat(handlerRan.await(HANG_SECONDS, TimeUnit.SECONDS)).as("handler of the cached read").isTrue();
                    assertThat(cached.get()).as("the cached read").isEqualTo(BLOCK);
                    // Not a bound on anything: the close returning while the other read is held is the failure.
                    assertThat(closeReturned.await(WATCH_MILLIS, TimeUnit.MILLISECONDS))
                            .as("the handler's close() returned with another read of the channel held in the kernel")
                            .isFalse();
                    assertThat(channel.isOpen()).isFalse();
                    assertThat(completedReads(loop.device())).as("reads the device completed, close waiting")
                            .isEqualTo(completedBefore);
                    assertThat(held.first.get()).as("outcome of the held read, close waiting").isNull();

                    throttle.release();
                    assertThat(closeReturned.await(HANG_SECONDS, TimeUnit.SECONDS))
                            .as("the handler's close() once the kernel finished the other read").isTrue();
                    assertThat(closeFailure.get()).isNull();
                    assertThat(held.done.await(HANG_SECONDS, TimeUnit.SECONDS)).as("held read delivered").isTrue();
                    System.out.printf("%s: held read %s%n", side, held.first.get());
                    assertThat(held.first.get()).as("outcome of the read the close waited for").isEqualTo(READ_SIZE);
                    Thread.sleep(50); // a second delivery would come from the same completion: give it the time to show
                    assertThat(held.deliveries.get()).isEqualTo(1);
                    assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(heldBuffer.flip()), heldAt, SEED))
                            .isEqualTo(-1);
                    if (side == Side.PANAIO) {
                        assertThat(engine.bouncePool().outstandingBytes()).as("bounce bytes borrowed").isZero();
                    }
                } finally {
                    throttle.release();
                    channel.close();
                }
            }
        }
    }

    /**
     * A handler on an engine thread ({@link PanaioOpenOption#INLINE_COMPLETION},
     * a direct read of another file) closes a channel whose direct read is
     * held in the kernel. An engine thread must not wait: the completion it
     * would wait for may be its own to reap. So that close returns at once,
     * with the read still held, the channel closed; the read completes later
     * with its whole count, once, into a buffer the kernel owned until then.
     * (The JDK has no such thread: its handlers run on pool threads, where a
     * close waits, as the test above shows.)
     */
    @org.junit.jupiter.api.Test
    void shouldNotWaitWhenAHandlerOnAnEngineThreadClosesAChannelWithAReadInTheKernel() throws Exception {
        Path other = TestData.writeFile(dir.resolve("other"), 1 << 20, SEED + 1);
        try (LoopDevice loop = LoopDevice.create(dir, 64L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("data"), 1 << 20, SEED);
            try (FileChannel file = FileChannel.open(path, WRITE)) {
                file.force(true); // nothing for the direct read to write back first
            }
            Set<java.nio.file.OpenOption> direct = Set.of(READ, ExtendedOpenOption.DIRECT);
            try (AioEngine engine = AioEngine.open(); ThrottledReads throttle = ThrottledReads.hold(loop.device());
                 AioAsynchronousFileChannel heldChannel = AioAsynchronousFileChannel.open(path, direct, null, engine);
                 AioAsynchronousFileChannel inline = AioAsynchronousFileChannel.open(other,
                         Set.of(READ, ExtendedOpenOption.DIRECT, PanaioOpenOption.INLINE_COMPLETION), null, engine)) {
                try {
                    long completedBefore = completedReads(loop.device());
                    long queuedBefore = throttle.queuedReads();
                    Outcome held = new Outcome();
                    ByteBuffer heldBuffer = ByteBuffer.allocateDirect(READ_SIZE + BLOCK).alignedSlice(BLOCK)
                            .limit(READ_SIZE);
                    heldChannel.read(heldBuffer, 0, null, held);
                    awaitQueued(throttle, queuedBefore);

                    AtomicReference<Thread> handlerThread = new AtomicReference<>();
                    AtomicReference<Object> closeOutcome = new AtomicReference<>();
                    CountDownLatch closeReturned = new CountDownLatch(1);
                    inline.read(ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK).limit(BLOCK), 0, null,
                            new CompletionHandler<Integer, Void>() {
                                @Override
                                public void completed(Integer n, Void attachment) {
                                    handlerThread.set(Thread.currentThread());
                                    try {
                                        heldChannel.close();
                                        closeOutcome.set(n);
                                    } catch (IOException | RuntimeException e) {
                                        closeOutcome.set(e);
                                    }
                                    closeReturned.countDown();
                                }

                                @Override
                                public void failed(Throwable error, Void attachment) {
                                    closeOutcome.set(error);
                                    closeReturned.countDown();
                                }
                            });
                    assertThat(closeReturned.await(HANG_SECONDS, TimeUnit.SECONDS))
                            .as("close() in a handler on an engine thread, with a read held in the kernel").isTrue();
                    assertThat(closeOutcome.get()).as("the inline read, then the close").isEqualTo(BLOCK);
                    assertThat(handlerThread.get().getName()).as("the handler's thread").startsWith("panaio-engine-");
                    assertThat(heldChannel.isOpen()).isFalse();
                    // It returned with the read still in the kernel.
                    assertThat(completedReads(loop.device())).as("reads the device completed").isEqualTo(completedBefore);
                    assertThat(held.first.get()).as("outcome of the held read when close() returned").isNull();
                    assertThat(engine.stats().inFlight()).as("requests in the kernel").isEqualTo(1);

                    throttle.release();
                    assertThat(held.done.await(HANG_SECONDS, TimeUnit.SECONDS)).as("held read delivered").isTrue();
                    assertThat(held.first.get()).as("outcome of the read whose channel closed").isEqualTo(READ_SIZE);
                    Thread.sleep(50); // a second delivery would come from the same completion: give it the time to show
                    assertThat(held.deliveries.get()).isEqualTo(1);
                    assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(heldBuffer.flip()), 0, SEED))
                            .isEqualTo(-1);
                    assertThat(engine.outstanding()).isZero();
                } finally {
                    throttle.release();
                }
            }
        }
    }

    /** Waits until the throttle has seen a read bio since {@code before}: the read is in the kernel, and held. */
    static void awaitQueued(ThrottledReads throttle, long before) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
        while (throttle.queuedReads() == before && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(throttle.queuedReads()).as("reads the throttle has seen").isGreaterThan(before);
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
