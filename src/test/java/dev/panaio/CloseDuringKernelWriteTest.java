package dev.panaio;

import dev.panaio.CloseDuringKernelReadTest.Outcome;
import dev.panaio.CloseDuringKernelReadTest.Side;
import dev.panaio.testing.LoopDevice;
import dev.panaio.testing.OpenDescriptors;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import dev.panaio.testing.ThrottledReads;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.panaio.CloseDuringKernelReadTest.HANG_SECONDS;
import static dev.panaio.CloseDuringKernelReadTest.SEED;
import static dev.panaio.CloseDuringKernelReadTest.WATCH_MILLIS;
import static dev.panaio.CloseDuringKernelReadTest.awaitQueued;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Buffered writes of the asynchronous channel, and buffered reads and writes
 * of the blocking one on a platform thread, held in the kernel, with the
 * JDK's channel beside panaio's: the write covers part of a block that is not
 * in the page cache, so the kernel reads that block first, and the block
 * layer's throttle of {@link CloseDuringKernelReadTest} holds that read. What
 * a close, or a channel dropped without one, does to such a write.
 */
class CloseDuringKernelWriteTest {
    @TempDir
    Path dir;

    /**
     * A buffered write held in the kernel: it covers part of a block that is
     * not in the page cache, so the kernel reads that block before it copies
     * (the throttle holds that read). The JDK's asynchronous channel makes the
     * write on a pool thread and its close waits for it; panaio's makes it on
     * its blocking pool, from the file's write queue, and its close waits too.
     * The write then completes with its whole count.
     */
    @ParameterizedTest
    @EnumSource
    void shouldWaitInCloseForABufferedWriteHeldInTheKernel(Side side) throws Exception {
        try (LoopDevice loop = LoopDevice.create(dir, 64L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("data"), 1 << 20, SEED);
            PageCache.evict(path);
            try (AioEngine engine = AioEngine.open(); ThrottledReads throttle = ThrottledReads.hold(loop.device())) {
                AsynchronousFileChannel channel = side == Side.PANAIO
                        ? AioAsynchronousFileChannel.open(path, Set.of(READ, WRITE), null, engine)
                        : AsynchronousFileChannel.open(path, Set.of(READ, WRITE), null);
                try {
                    long queuedBefore = throttle.queuedReads();
                    Outcome held = new Outcome();
                    byte[] bytes = new byte[100];
                    Arrays.fill(bytes, (byte) 0x5A);
                    long heldAt = (512 << 10) + 10; // inside a block, not at its start: the kernel reads the block
                    channel.write(ByteBuffer.wrap(bytes), heldAt, null, held);
                    awaitQueued(throttle, queuedBefore);
                    assertThat(held.first.get()).as("outcome of the write held in the kernel").isNull();

                    CountDownLatch closeReturned = new CountDownLatch(1);
                    AtomicReference<IOException> closeFailure = new AtomicReference<>();
                    Thread closer = Thread.ofPlatform().start(() -> {
                        try {
                            channel.close();
                        } catch (IOException e) {
                            closeFailure.set(e);
                        }
                        closeReturned.countDown();
                    });
                    // Not a bound on anything: the close returning while the write is held is the failure.
                    assertThat(closeReturned.await(WATCH_MILLIS, TimeUnit.MILLISECONDS))
                            .as("close() returned with a write of the channel held in the kernel").isFalse();
                    assertThat(held.first.get()).as("outcome of the held write, close waiting").isNull();

                    throttle.release();
                    assertThat(closeReturned.await(HANG_SECONDS, TimeUnit.SECONDS))
                            .as("close() once the kernel finished the write").isTrue();
                    closer.join();
                    assertThat(closeFailure.get()).isNull();
                    assertThat(held.done.await(HANG_SECONDS, TimeUnit.SECONDS)).as("held write delivered").isTrue();
                    assertThat(held.first.get()).as("outcome of the write the close waited for").isEqualTo(100);
                    try (FileChannel check = FileChannel.open(path, READ)) {
                        ByteBuffer back = ByteBuffer.allocate(100);
                        check.read(back, heldAt);
                        assertThat(back.array()).isEqualTo(bytes);
                    }
                } finally {
                    throttle.release();
                    channel.close();
                }
            }
        }
    }

    /**
     * The blocking channel on a platform thread makes its buffered reads and
     * writes itself (pread, pwrite), as the JDK's FileChannel does: a close
     * from another thread waits for the one held in the kernel, as the JDK's
     * waits for its pread or pwrite. The call then returns its count, or
     * fails with AsynchronousCloseException.
     */
    @ParameterizedTest
    @EnumSource
    void shouldWaitInCloseForAPlatformThreadsBufferedReadHeldInTheKernel(Side side) throws Exception {
        closeWhileABlockingCallIsHeld(side, true);
    }

    /** As the read above, for a write into a block the kernel must read first. */
    @ParameterizedTest
    @EnumSource
    void shouldWaitInCloseForAPlatformThreadsBufferedWriteHeldInTheKernel(Side side) throws Exception {
        closeWhileABlockingCallIsHeld(side, false);
    }

    private void closeWhileABlockingCallIsHeld(Side side, boolean read) throws Exception {
        try (LoopDevice loop = LoopDevice.create(dir, 64L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("data"), 1 << 20, SEED);
            PageCache.evict(path);
            try (AioEngine engine = AioEngine.open(); ThrottledReads throttle = ThrottledReads.hold(loop.device())) {
                FileChannel channel = side == Side.PANAIO
                        ? AioFileChannel.open(path, Set.of(READ, WRITE), engine)
                        : FileChannel.open(path, READ, WRITE);
                try {
                    long queuedBefore = throttle.queuedReads();
                    AtomicReference<Object> outcome = new AtomicReference<>();
                    long heldAt = (512 << 10) + 10; // not cached: the kernel reads the block, and the throttle holds it
                    Thread caller = Thread.ofPlatform().start(() -> {
                        try {
                            ByteBuffer buffer = ByteBuffer.allocateDirect(100);
                            outcome.set(read ? channel.read(buffer, heldAt) : channel.write(buffer, heldAt));
                        } catch (Throwable t) {
                            outcome.set(t);
                        }
                    });
                    awaitQueued(throttle, queuedBefore);
                    assertThat(outcome.get()).as("outcome of the call held in the kernel").isNull();

                    CountDownLatch closeReturned = new CountDownLatch(1);
                    Thread closer = Thread.ofPlatform().start(() -> {
                        try {
                            channel.close();
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                        closeReturned.countDown();
                    });
                    // Not a bound on anything: the close returning while the call is held is the failure.
                    assertThat(closeReturned.await(WATCH_MILLIS, TimeUnit.MILLISECONDS))
                            .as("close() returned with a %s of the channel held in the kernel", read ? "read" : "write")
                            .isFalse();

                    throttle.release();
                    assertThat(closeReturned.await(HANG_SECONDS, TimeUnit.SECONDS))
                            .as("close() once the kernel finished the call").isTrue();
                    closer.join();
                    caller.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
                    assertThat(outcome.get()).as("what the held call returned")
                            .satisfiesAnyOf(o -> assertThat(o).isEqualTo(100),
                                    o -> assertThat(o).isInstanceOf(java.nio.channels.AsynchronousCloseException.class));
                } finally {
                    throttle.release();
                    channel.close();
                }
            }
        }
    }

    /**
     * A channel dropped without {@code close()} while its writes are in
     * flight: one held in the kernel (as above), one queued behind it. The
     * JDK's pool tasks keep their channel reachable, so both complete; a
     * request of panaio's does too, rather than fail when the channel's
     * Cleaner closes the descriptor under the queued one.
     */
    @ParameterizedTest
    @EnumSource
    void shouldCompleteTheWritesOfAChannelDroppedWithThemInFlight(Side side) throws Throwable {
        try (LoopDevice loop = LoopDevice.create(dir, 64L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("data"), 1 << 20, SEED);
            PageCache.evict(path);
            try (AioEngine engine = AioEngine.open(); ThrottledReads throttle = ThrottledReads.hold(loop.device())) {
                long queuedBefore = throttle.queuedReads();
                Outcome held = new Outcome();
                Outcome behind = new Outcome();
                byte[] bytes = new byte[100];
                Arrays.fill(bytes, (byte) 0x3C);
                long heldAt = (512 << 10) + 10;
                long behindAt = (768 << 10) + 10;
                WeakReference<AsynchronousFileChannel> dropped =
                        writeTwiceAndDrop(side, path, engine, bytes, heldAt, behindAt, held, behind);
                awaitQueued(throttle, queuedBefore);
                for (int i = 0; i < 20 && dropped.get() != null; i++) {
                    System.gc();
                    Thread.sleep(20);
                }
                Thread.sleep(100); // a Cleaner that found the channel unreachable closes its descriptor meanwhile
                throttle.release();

                assertThat(held.done.await(HANG_SECONDS, TimeUnit.SECONDS)).as("held write delivered").isTrue();
                assertThat(behind.done.await(HANG_SECONDS, TimeUnit.SECONDS)).as("second write delivered").isTrue();
                assertThat(held.first.get()).as("the write held in the kernel").isEqualTo(100);
                assertThat(behind.first.get()).as("the write queued behind it").isEqualTo(100);
                try (FileChannel check = FileChannel.open(path, READ)) {
                    for (long at : new long[] {heldAt, behindAt}) {
                        ByteBuffer back = ByteBuffer.allocate(100);
                        check.read(back, at);
                        assertThat(back.array()).as("bytes at %d", at).isEqualTo(bytes);
                    }
                }
                awaitDropped(dropped);
                if (side == Side.JDK) {
                    // The JDK's asynchronous channel registers no Cleaner for its descriptor (UnixChannelFactory):
                    // a dropped one keeps it open. Closed here, so that the loop device can be unmounted.
                    closeDescriptorsOf(path);
                }
                assertThat(OpenDescriptors.awaitOn(path, open -> open == 0, true, HANG_SECONDS * 1000L))
                        .as("descriptors still open on the file").isZero(); // panaio's Cleaner closes its own
            }
        }
    }

    /** Collects until the dropped channel is gone (its requests done, nothing refers to it). */
    private static void awaitDropped(WeakReference<?> dropped) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
        while (dropped.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(dropped.get()).as("the dropped channel, collected once its requests completed").isNull();
    }

    private static void closeDescriptorsOf(Path file) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT));
        for (int fd : OpenDescriptors.numbersOn(file)) {
            int ignored = (int) close.invokeExact(fd);
        }
    }


    /** Opens a channel, starts two writes with it, and lets go of it: nothing but the requests refers to it. */
    private static WeakReference<AsynchronousFileChannel> writeTwiceAndDrop(
            Side side, Path path, AioEngine engine, byte[] bytes, long first, long second, Outcome one, Outcome two)
            throws IOException {
        AsynchronousFileChannel channel = side == Side.PANAIO
                ? AioAsynchronousFileChannel.open(path, Set.of(READ, WRITE), null, engine)
                : AsynchronousFileChannel.open(path, Set.of(READ, WRITE), null);
        channel.write(ByteBuffer.wrap(bytes), first, null, one);
        channel.write(ByteBuffer.wrap(bytes), second, null, two);
        return new WeakReference<>(channel);
    }
}
