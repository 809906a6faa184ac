package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * AioEngine's backpressure and callbacks: submitters park beyond maxPending, engine threads never do,
 * and callbacks that submit more work (on one engine thread or two) never deadlock.
 */
class AioEngineBackpressureTest {
    private static final int SEED = 11;

    @TempDir
    Path dir;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void closeArena() {
        arena.close();
    }

    @Test
    void shouldLetACallbackSubmitMoreWorkWithoutDeadlock() throws Exception {
        Path path = TestData.writeFile(dir.resolve("chain"), 1 << 20, SEED);
        try (AioEngine engine = AioEngine.builder().capacity(1).maxPending(1).build();
             AioFile file = AioFile.open(path, READ)) {
            CountDownLatch done = new CountDownLatch(1);
            MemorySegment buffer = arena.allocate(4096);
            chain(engine, file, buffer, 0, 200, done);
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static void chain(AioEngine engine, AioFile file, MemorySegment buffer, int n, int last,
                              CountDownLatch done) {
        engine.read(file, buffer, n * 4096L).thenRun(() -> {
            if (n == last) {
                done.countDown();
            } else {
                chain(engine, file, buffer, n + 1, last, done);
            }
        });
    }

    @Test
    void shouldParkSubmittersBeyondMaxPendingUntilTheQueueDrains() throws Exception {
        Path path = TestData.writeFile(dir.resolve("bp"), 1 << 20, SEED);
        int maxPending = 4;
        int submitters = maxPending + 2;
        try (AioEngine engine = AioEngine.builder().capacity(1).maxPending(maxPending).build();
             AioFile file = AioFile.open(path, READ); EventFd gate = EventFd.open()) {
            CompletableFuture<Integer> poll = engine.poll(gate, 1); // holds the engine's one slot until written
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < submitters; i++) {
                CompletableFuture<Integer> read = new CompletableFuture<>();
                long position = i * 512L;
                reads.add(read);
                threads.add(Thread.ofPlatform().daemon().start(() -> {
                    CompletableFuture<Integer> f = engine.read(file, arena.allocate(512), position);
                    f.whenComplete((r, e) -> {
                        if (e != null) {
                            read.completeExceptionally(e);
                        } else {
                            read.complete(r);
                        }
                    });
                }));
            }
            // maxPending submitters return with their request queued; the rest park inside read().
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && (count(threads, Thread.State.TERMINATED) < maxPending
                    || parkedInEngine(threads) < submitters - maxPending)) {
                Thread.sleep(5);
            }
            assertThat(count(threads, Thread.State.TERMINATED)).as("submitters that returned").isEqualTo(maxPending);
            assertThat(parkedInEngine(threads)).as("submitters parked in AioEngine.read")
                    .isEqualTo(submitters - maxPending);
            assertThat(reads).allSatisfy(read -> assertThat(read).isNotDone());

            gate.write(1); // the poll completes, the queue drains, the parked submitters get permits
            assertThat(poll.get(10, TimeUnit.SECONDS) & 1).isEqualTo(1);
            for (Thread thread : threads) {
                thread.join(10_000);
                assertThat(thread.isAlive()).as("%s still parked after the queue drained", thread).isFalse();
            }
            for (CompletableFuture<Integer> read : reads) {
                assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(512);
            }
        }
    }

    private static long count(List<Thread> threads, Thread.State state) {
        return threads.stream().filter(t -> t.getState() == state).count();
    }

    /** Threads parked (WAITING) with a stack inside AioEngine: waiting for room in its queue. */
    private static long parkedInEngine(List<Thread> threads) {
        return threads.stream()
                .filter(t -> t.getState() == Thread.State.WAITING)
                .filter(t -> Arrays.stream(t.getStackTrace())
                        .anyMatch(frame -> frame.getClassName().equals(AioEngine.class.getName())))
                .count();
    }

    @Test
    void shouldNotDeadlockWhenCallbacksOnTwoEngineThreadsSubmitToEachOther() throws Exception {
        Path path = TestData.writeFile(dir.resolve("two"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.builder().threads(2).maxPending(1).build();
             AioFile file = AioFile.open(path, READ); EventFd trigger = EventFd.open()) {
            java.util.concurrent.CyclicBarrier bothInCallbacks = new java.util.concurrent.CyclicBarrier(3);
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger completed = new AtomicInteger();
            for (int loop = 0; loop < 2; loop++) {
                engine.poll(trigger, 1).thenRun(() -> { // runs on whichever engine thread completed the poll
                    try {
                        bothInCallbacks.await();
                        go.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    for (int i = 0; i < 16; i++) {
                        engine.read(file, arena.allocate(64), 0).thenRun(completed::incrementAndGet);
                    }
                });
            }
            trigger.write(1);
            bothInCallbacks.await(10, TimeUnit.SECONDS);
            // Both engine threads sit in callbacks: fill each queue's single permit from an ordinary thread.
            engine.read(file, arena.allocate(64), 0).thenRun(completed::incrementAndGet);
            engine.read(file, arena.allocate(64), 0).thenRun(completed::incrementAndGet);
            go.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (completed.get() < 34 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(completed.get()).isEqualTo(34);
        }
    }

    @Test
    void shouldNeverParkAnEngineThreadOnAnotherEnginesPermits() throws Exception {
        try (AioEngine a = AioEngine.open();
             AioEngine full = AioEngine.builder().capacity(1).maxPending(1).build();
             EventFd trigger = EventFd.open();
             EventFd never = EventFd.open()) {
            CompletableFuture<Integer> holdsTheSlot = full.poll(never, 1);
            CompletableFuture<Integer> holdsThePermit = full.poll(never, 1);
            awaitOutstanding(full, 2);
            CountDownLatch callbackReturned = new CountDownLatch(1);
            List<CompletableFuture<Integer>> fromTheCallback = new ArrayList<>();
            a.poll(trigger, 1).thenRun(() -> { // on a's engine thread
                fromTheCallback.add(full.poll(never, 1)); // full's queue is full: must not park this thread
                callbackReturned.countDown();
            });
            trigger.write(1);
            assertThat(callbackReturned.await(10, TimeUnit.SECONDS))
                    .as("a callback on one engine's thread submitting to another, full engine returned").isTrue();
            never.write(1); // lets everything finish
            assertThat(holdsTheSlot.get(10, TimeUnit.SECONDS)).isPositive();
            assertThat(holdsThePermit.get(10, TimeUnit.SECONDS)).isPositive();
            assertThat(fromTheCallback.get(0).get(10, TimeUnit.SECONDS)).isPositive();
        }
    }

    /**
     * Many rounds: {@code Thread.interrupt} wakes the reader before it looks
     * for the channel's interruptor, and a reader that ran on to the end of its
     * call first once got {@code AsynchronousCloseException} (under CPU load,
     * at round 4 of 3000).
     */
    @Test
    void shouldCloseAChannelWhoseBlockingCallIsInterruptedWhileWaitingForRoom() throws Exception {
        Path path = TestData.writeFile(dir.resolve("room"), 1 << 16, SEED);
        try (AioEngine full = AioEngine.builder().capacity(1).maxPending(1).build()) {
            for (int round = 0; round < 100; round++) {
                interruptAReadWaitingForRoom(full, path, "round " + round);
            }
        }
    }

    private static void interruptAReadWaitingForRoom(AioEngine full, Path path, String round) throws Exception {
        try (EventFd never = EventFd.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, ExtendedOpenOption.DIRECT), full)) {
            CompletableFuture<Integer> holdsTheSlot = full.poll(never, 1);
            CompletableFuture<Integer> holdsThePermit = full.poll(never, 1);
            awaitOutstanding(full, 2);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    channel.read(ByteBuffer.allocateDirect(8192).alignedSlice(4096), 0);
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            while (reader.getState() != Thread.State.WAITING && reader.isAlive()) {
                Thread.yield(); // until it is parked on the engine's permits
            }
            reader.interrupt();
            reader.join(10_000);
            boolean stuck = reader.isAlive();
            never.write(1); // frees the engine whatever happened, so the round ends
            assertThat(stuck).as(round + ": a blocking read waiting for room, interrupted, returned").isFalse();
            assertThat(outcome.get(10, TimeUnit.SECONDS)).as(round).isInstanceOf(ClosedByInterruptException.class);
            assertThat(channel.isOpen()).as(round + ": an interrupted blocking call closes its channel, as the JDK")
                    .isFalse();
            assertThat(holdsTheSlot.get(10, TimeUnit.SECONDS)).isPositive();
            assertThat(holdsThePermit.get(10, TimeUnit.SECONDS)).isPositive();
            awaitOutstanding(full, 0);
        }
    }

    private static void awaitOutstanding(AioEngine engine, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.outstanding() != count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(engine.outstanding()).isEqualTo(count);
    }
}
