package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Interrupts and close of blocked channel calls, cancellation, and interrupts of an owner in await and of
 * a submitter parked by backpressure.
 * Part of the fault tests; see {@link FaultTesting}.
 */
class FaultInterruptTest extends FaultTesting {
    // ------------------------------------------------ interrupts and close

    enum Interruption { INTERRUPT, CLOSE }

    enum Transfer { DIRECT_READ, DIRECT_WRITE, UNCACHED_BUFFERED_READ, BUFFERED_WRITE }

    /**
     * A thread blocked in a large read or write is interrupted (or the
     * channel closed under it): the call throws ClosedByInterruptException
     * (AsynchronousCloseException; ClosedChannelException when the close came
     * before the call checked the channel), the channel is closed, the interrupt
     * status stays set, and the call has returned only once the kernel
     * finished: the whole buffer was read into (or written), and nothing
     * changes afterwards. A call that finished before the interrupt landed
     * returns normally.
     */
    @ParameterizedTest(name = "{0} {1} on a {2} thread, {3} buffer")
    @CsvSource({
            "DIRECT_READ, INTERRUPT, platform, native", "DIRECT_READ, INTERRUPT, virtual, native",
            "DIRECT_READ, CLOSE, virtual, native",
            "DIRECT_WRITE, INTERRUPT, platform, native", "DIRECT_WRITE, INTERRUPT, virtual, native",
            "DIRECT_WRITE, CLOSE, platform, native",
            "UNCACHED_BUFFERED_READ, INTERRUPT, platform, native", "UNCACHED_BUFFERED_READ, INTERRUPT, virtual, native",
            "UNCACHED_BUFFERED_READ, CLOSE, virtual, native", "BUFFERED_WRITE, INTERRUPT, virtual, native",
            // Bounced: a heap buffer and a misaligned one go to the kernel through the engine's aligned memory.
            "DIRECT_READ, INTERRUPT, platform, heap", "DIRECT_READ, INTERRUPT, virtual, misaligned",
            "DIRECT_READ, CLOSE, virtual, heap", "DIRECT_WRITE, INTERRUPT, virtual, heap",
            "DIRECT_WRITE, INTERRUPT, platform, misaligned"})
    void shouldReturnFromAnInterruptedOrClosedChannelCallOnlyOnceTheKernelIsDone(Transfer kind,
            Interruption interruption, String threadKind, String bufferKind) throws Exception {
        int size = 32 << 20;
        Path path = TestData.writeFile(dir.resolve("interrupt"), size, SEED);
        boolean direct = kind == Transfer.DIRECT_READ || kind == Transfer.DIRECT_WRITE;
        boolean read = kind == Transfer.DIRECT_READ || kind == Transfer.UNCACHED_BUFFERED_READ;
        if (!direct) {
            PageCache.evict(path);
        }
        Set<OpenOption> options = direct ? Set.of(READ, WRITE, ExtendedOpenOption.DIRECT) : Set.of(READ, WRITE);
        try (AioEngine engine = AioEngine.open(); Arena arena = Arena.ofShared()) {
            AioFileChannel channel = AioFileChannel.open(path, options, engine);
            ByteBuffer buffer = callerBuffer(bufferKind, arena, size);
            MemorySegment memory = MemorySegment.ofBuffer(buffer);
            if (!read) {
                TestData.fill(memory, 0, SEED + 1);
            }
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicBoolean interruptedAfter = new AtomicBoolean();
            CountDownLatch calling = new CountDownLatch(1);
            Runnable call = () -> {
                calling.countDown();
                try {
                    outcome.set(read ? channel.read(buffer, 0) : channel.write(buffer, 0));
                } catch (Throwable t) {
                    outcome.set(t);
                }
                interruptedAfter.set(Thread.currentThread().isInterrupted());
            };
            Thread caller = threadKind.equals("virtual") ? Thread.ofVirtual().start(call)
                    : Thread.ofPlatform().start(call);
            calling.await();
            Thread.sleep(1);
            if (interruption == Interruption.INTERRUPT) {
                caller.interrupt();
            } else {
                channel.close();
            }
            caller.join(30_000);
            assertThat(caller.isAlive()).isFalse();
            byte[] atReturn = snapshot(memory);
            Object result = outcome.get();
            System.out.printf("%s %s on a %s thread, %s buffer: %s%n", kind, interruption, threadKind, bufferKind,
                    result);
            if (result instanceof Integer n) {
                // A buffered read may stop short where the page cache did (RWF_NOWAIT), like any read.
                assertThat(n).as("bytes a completed call transferred").isPositive().isLessThanOrEqualTo(size);
                if (direct || !read) {
                    assertThat(n).as("a completed direct read or a write transfers everything").isEqualTo(size);
                }
            } else {
                // A close that lands before the call has checked the channel gives ClosedChannelException
                // itself, as the JDK's does; once the call is under way, its subclass AsynchronousCloseException.
                Class<?> expected = interruption == Interruption.INTERRUPT ? ClosedByInterruptException.class
                        : ClosedChannelException.class;
                assertThat(result).isInstanceOf(expected);
                assertThat(channel.isOpen()).isFalse();
            }
            if (result instanceof ClosedByInterruptException) {
                assertThat(interruptedAfter.get()).as("interrupt status after the interrupted call").isTrue();
            }
            assertUnchangedAfterAWhile(memory, atReturn, "the caller's buffer");
            channel.close();
            if (read && result instanceof Integer n) {
                assertThat(TestData.firstMismatch(memory.asSlice(0, n), 0, SEED)).isEqualTo(-1);
            } else if (read) {
                // Interrupted: the read was either never submitted (the buffer is untouched) or done in full.
                long mismatch = TestData.firstMismatch(memory, 0, SEED);
                assertThat(mismatch == -1 || isAllZero(memory))
                        .as("buffer after an interrupted read: all of the file or untouched (first mismatch at %d)",
                                mismatch).isTrue();
            } else {
                byte[] file = Files.readAllBytes(path);
                MemorySegment written = MemorySegment.ofArray(file);
                long asWritten = TestData.firstMismatch(written, 0, SEED + 1);
                long asBefore = TestData.firstMismatch(written, 0, SEED);
                assertThat(asWritten == -1 || asBefore == -1)
                        .as("file after an interrupted write: all new or all old (first new-data mismatch at %d)",
                                asWritten).isTrue();
            }
            assertThat(engine.outstanding()).isZero();
            assertThat(engine.bouncePool().outstandingBytes()).isZero();
        }
    }

    /**
     * The close provably lands while a direct call is in flight: the engine's one slot is held by a poll, so
     * the call's request waits in the engine's queue, where its caller is seen parked, until the close has
     * returned; only then is the poll released. The request then meets its closed file and the call throws
     * AsynchronousCloseException with the buffer (or the file) untouched. (Whether a close lands while a
     * direct request is inside the kernel is a race on this machine's disk, so the rows above accept both
     * outcomes; CloseDuringKernelReadTest holds the read in the kernel to make that case certain: the read
     * then returns its whole count, as the JDK's does.)
     */
    @ParameterizedTest(name = "{0} on a {1} thread")
    @CsvSource({"DIRECT_READ, platform", "DIRECT_READ, virtual", "DIRECT_WRITE, platform", "DIRECT_WRITE, virtual"})
    void shouldThrowAsynchronousCloseExceptionWhenClosedWhileADirectCallWaitsInTheEngine(Transfer kind,
            String threadKind) throws Exception {
        int size = 1 << 20;
        Path path = TestData.writeFile(dir.resolve("close-queued"), size, SEED);
        boolean read = kind == Transfer.DIRECT_READ;
        try (AioEngine engine = AioEngine.builder().capacity(1).build(); EventFd gate = EventFd.open();
             Arena arena = Arena.ofShared()) {
            CompletableFuture<Integer> poll = engine.poll(gate, 1);
            AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, WRITE, ExtendedOpenOption.DIRECT), engine);
            MemorySegment memory = arena.allocate(size, BLOCK);
            if (!read) {
                TestData.fill(memory, 0, SEED + 1);
            }
            ByteBuffer buffer = memory.asByteBuffer();
            AtomicReference<Object> outcome = new AtomicReference<>();
            Runnable call = () -> {
                try {
                    outcome.set(read ? channel.read(buffer, 0) : channel.write(buffer, 0));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            };
            Thread caller = threadKind.equals("virtual") ? Thread.ofVirtual().start(call)
                    : Thread.ofPlatform().start(call);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
            while (!parkedIn(caller, AioFileChannel.class) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(parkedIn(caller, AioFileChannel.class)).as("caller parked in the channel call: %s",
                    Arrays.toString(caller.getStackTrace())).isTrue();
            assertThat(outcome.get()).as("outcome before the close").isNull();
            Thread closer = Thread.ofPlatform().start(() -> {
                try {
                    channel.close();
                } catch (IOException e) {
                    outcome.compareAndSet(null, e);
                }
            });
            closer.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertThat(closer.isAlive()).as("close() with the call's request queued").isFalse();
            assertThat(outcome.get()).as("outcome once close() returned, the request still queued").isNull();
            gate.write(1); // only now can the request leave the queue
            assertThat(poll.get(HANG_SECONDS, TimeUnit.SECONDS) & 1).isEqualTo(1);
            caller.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertThat(caller.isAlive()).as("caller after the close").isFalse();
            assertThat(outcome.get()).isInstanceOf(AsynchronousCloseException.class);
            assertThat(channel.isOpen()).isFalse();
            if (read) {
                assertThat(isAllZero(memory)).as("the buffer of a read that never reached the kernel").isTrue();
            } else {
                assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)), 0, SEED))
                        .as("the file under a write that never reached the kernel").isEqualTo(-1);
            }
            assertThat(engine.outstanding()).isZero();
        }
    }

    /**
     * A caller's buffer of {@code size} zero bytes: {@code native} (aligned, of a shared arena), {@code heap}, or
     * {@code misaligned} (native, one byte off alignment); the last two are bounced on a direct channel.
     */
    private static ByteBuffer callerBuffer(String kind, Arena arena, int size) {
        return switch (kind) {
            case "native" -> arena.allocate(size, BLOCK).asByteBuffer();
            case "heap" -> ByteBuffer.allocate(size);
            case "misaligned" -> arena.allocate(size + 1L, BLOCK).asSlice(1, size).asByteBuffer();
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** Whether {@code thread} is parked (WAITING) with {@code type} on its stack. */
    private static boolean parkedIn(Thread thread, Class<?> type) {
        return thread.getState() == Thread.State.WAITING && Arrays.stream(thread.getStackTrace())
                .anyMatch(frame -> frame.getClassName().equals(type.getName()));
    }

    private static boolean isAllZero(MemorySegment segment) {
        return segment.asByteBuffer().mismatch(ByteBuffer.allocate((int) segment.byteSize())) == -1;
    }

    /**
     * Observed semantics of {@code Future.cancel(true)} on panaio's
     * asynchronous channel and engine: the future reports cancelled at once,
     * but a file read in flight cannot be cancelled (Linux cancels only
     * polls): the kernel still fills the buffer, and the ByteBuffer's position
     * still advances when it does. The channel and engine stay usable.
     */
    @ParameterizedTest
    @EnumSource(names = {"DIRECT_READ", "UNCACHED_BUFFERED_READ"})
    void shouldStillFillTheBufferOfACancelledReadAndStayUsable(Transfer kind) throws Exception {
        int size = 16 << 20;
        Path path = TestData.writeFile(dir.resolve("cancel"), size, SEED);
        boolean direct = kind == Transfer.DIRECT_READ;
        if (!direct) {
            PageCache.evict(path);
        }
        Set<OpenOption> options = direct ? Set.of(READ, ExtendedOpenOption.DIRECT) : Set.of(READ);
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, options, null, engine);
             Arena arena = Arena.ofShared()) {
            MemorySegment memory = arena.allocate(size, BLOCK);
            ByteBuffer buffer = memory.asByteBuffer();
            Future<Integer> read = channel.read(buffer, 0);
            boolean cancelled = read.cancel(true);
            if (cancelled) {
                assertThat(read.isCancelled()).isTrue();
                assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (buffer.position() != size && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(buffer.position()).as("position of the cancelled read's buffer, once the kernel is done")
                    .isEqualTo(size);
            assertThat(TestData.firstMismatch(memory, 0, SEED)).isEqualTo(-1);
            assertThat(channel.isOpen()).isTrue();
            assertThat(channel.read(ByteBuffer.allocate(BLOCK), BLOCK).get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);

            // The engine's own futures behave the same way.
            try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
                MemorySegment segment = arena.allocate(size, BLOCK);
                CompletableFuture<Integer> raw = engine.read(file, segment, 0);
                raw.cancel(true); // false only if the 16 MiB read already completed: the checks below hold either way
                // outstanding() does not count a request on its way from the queue into the ring: wait for the data.
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (TestData.firstMismatch(segment, 0, SEED) != -1 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertThat(TestData.firstMismatch(segment, 0, SEED)).as("first byte the kernel did not fill")
                        .isEqualTo(-1);
                while (engine.outstanding() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertThat(engine.outstanding()).isZero();
                assertThat(engine.read(file, segment.asSlice(0, BLOCK), 0).get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);
            }
        }
    }

    /**
     * As above, with a buffer the channel bounces: the cancelled read still
     * completes into the engine's aligned memory, is copied on into the
     * caller's buffer, and the bounce buffer goes back to its pool only then.
     */
    @ParameterizedTest
    @CsvSource({"heap", "misaligned"})
    void shouldStillCopyACancelledBouncedReadIntoTheBufferAndGiveTheBounceBufferBack(String bufferKind)
            throws Exception {
        int size = 16 << 20;
        Path path = TestData.writeFile(dir.resolve("cancel-bounced"), size, SEED);
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                     Set.of(READ, ExtendedOpenOption.DIRECT), null, engine);
             Arena arena = Arena.ofShared()) {
            ByteBuffer buffer = callerBuffer(bufferKind, arena, size);
            Future<Integer> read = channel.read(buffer, 0);
            if (read.cancel(true)) {
                assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((buffer.position() != size || engine.bouncePool().outstandingBytes() != 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(buffer.position()).as("position of the cancelled read's buffer, once the kernel is done")
                    .isEqualTo(size);
            assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(buffer.flip()), 0, SEED)).isEqualTo(-1);
            assertThat(engine.bouncePool().outstandingBytes()).as("bounce buffers still out").isZero();
            assertThat(engine.outstanding()).isZero();
            assertThat(channel.read(ByteBuffer.allocate(BLOCK), BLOCK).get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);
        }
    }

    @Test
    void shouldKeepWaitingInAwaitWhenTheOwnerIsInterruptedAndKeepTheInterruptStatus() throws Exception {
        try (AioContext aio = AioContext.open(4); EventFd ready = EventFd.open()) {
            aio.preparePoll(ready, 1, 7);
            aio.submit();
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicBoolean stillInterrupted = new AtomicBoolean();
            CountDownLatch waiting = new CountDownLatch(1);
            Thread owner = Thread.ofPlatform().start(() -> {
                waiting.countDown();
                try {
                    long[] tag = {-1};
                    int n = aio.await(1, 30, TimeUnit.SECONDS, (t, r) -> tag[0] = t);
                    outcome.set(n == 1 ? tag[0] : (Object) ("delivered " + n));
                } catch (Throwable t) {
                    outcome.set(t);
                }
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            });
            waiting.await();
            owner.interrupt();
            Thread.sleep(20);
            ready.write(1);
            owner.join(30_000);
            assertThat(outcome.get()).as("what await gave the interrupted owner").isEqualTo(7L);
            assertThat(stillInterrupted.get()).isTrue();
        }
    }

    @Test
    void shouldFailASubmitterParkedByBackpressureWithInterruptedIoExceptionWhenInterrupted() throws Exception {
        try (AioEngine engine = AioEngine.builder().maxPending(1).build(); EventFd ready = EventFd.open()) {
            // Hold the engine thread in a completion stage, so that nothing leaves the queue.
            CountDownLatch inStage = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            try {
                CompletableFuture<Integer> first = engine.poll(ready, 1);
                CompletableFuture<Void> stage = first.thenRun(() -> {
                    inStage.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                ready.write(1);
                assertThat(inStage.await(10, TimeUnit.SECONDS)).isTrue();
                CompletableFuture<Integer> queued = engine.poll(ready, 1); // takes the one queue place
                AtomicReference<CompletableFuture<Integer>> parked = new AtomicReference<>();
                AtomicBoolean stillInterrupted = new AtomicBoolean();
                Thread submitter = Thread.ofVirtual().start(() -> {
                    parked.set(engine.poll(ready, 1));
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                });
                while (submitter.getState() != Thread.State.WAITING) {
                    Thread.sleep(5); // parked on the engine's permits: there is no room
                }
                assertThat(parked.get()).as("the submitter is parked: no room yet").isNull();
                submitter.interrupt();
                submitter.join(30_000);
                // As an interrupted blocking I/O call in the JDK: the wait ends, the request was never accepted.
                assertThat(parked.get()).as("the interrupted submitter's poll").isNotNull();
                assertThat(parked.get()).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
                        .havingCause().isInstanceOf(java.io.InterruptedIOException.class);
                assertThat(stillInterrupted.get()).as("interrupt status of the parked submitter").isTrue();
                release.countDown();
                for (CompletableFuture<Integer> poll : List.of(first, queued)) {
                    assertThat(poll.get(10, TimeUnit.SECONDS) & 1).isEqualTo(1);
                }
                stage.get(10, TimeUnit.SECONDS);
            } finally {
                release.countDown(); // never leave the engine thread held, or close() would wait for it
            }
        }
    }
}
