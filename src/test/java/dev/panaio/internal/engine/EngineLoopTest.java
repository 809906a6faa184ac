package dev.panaio.internal.engine;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioFile;
import dev.panaio.EventFd;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/** The loop's idle shortcut: who submits, when, and that each request is still delivered once. */
class EngineLoopTest {
    private static final int SEED = 23;
    private static final int BLOCK = 4096;
    private static final int POLLIN = 0x1;

    @TempDir
    Path dir;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void closeArena() {
        arena.close();
    }

    /** Counts a request's deliveries, and notes the thread and value of the first. */
    private static final class CountingSink implements CompletionSink {
        final AtomicInteger deliveries = new AtomicInteger();
        final CountDownLatch done = new CountDownLatch(1);
        volatile long result = Long.MIN_VALUE;
        volatile Throwable error;
        volatile Thread deliveredOn;

        @Override
        public void finish(long result) {
            this.result = result;
            delivered();
        }

        @Override
        public void fail(Throwable error) {
            this.error = error;
            delivered();
        }

        private void delivered() {
            if (deliveries.incrementAndGet() == 1) {
                deliveredOn = Thread.currentThread();
            }
            done.countDown();
        }

        void await() throws InterruptedException {
            assertThat(done.await(10, TimeUnit.SECONDS)).as("delivered within 10 s").isTrue();
        }
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waiting for " + what).isNegative();
            Thread.sleep(1);
        }
    }

    /** The engine thread is asleep and has had 50 ms to make its offer, if it makes one. */
    private static void settle(EngineLoop loop) throws InterruptedException {
        waitFor(() -> loop.isSleeping() && loop.outstanding() == 0, "the loop to go idle");
        Thread.sleep(50);
    }

    @Test
    void shouldSubmitOnTheCallersThreadWhenIdleAndDeliverOnTheEngineThreadOnce() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 * BLOCK, SEED);
        EngineLoop loop = new EngineLoop(8, 64, "test-engine");
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            MemorySegment buffer = arena.allocate(BLOCK, BLOCK);
            for (int i = 0; i < 32; i++) {
                waitFor(loop::offersToSubmitter, "the idle loop's offer");
                long before = loop.callerSubmits();
                CountingSink sink = new CountingSink();
                loop.enqueue(Request.read(file, buffer, (long) i * BLOCK, "aio"), sink);
                assertThat(loop.callerSubmits()).as("submitted by the caller").isEqualTo(before + 1);
                sink.await();
                assertThat(sink.result).isEqualTo(BLOCK);
                assertThat(TestData.firstMismatch(buffer, (long) i * BLOCK, SEED)).isEqualTo(-1);
                assertThat(sink.deliveredOn).as("the completion's thread").isNotSameAs(Thread.currentThread());
                Thread.sleep(20); // a second delivery, if any, would land now
                assertThat(sink.deliveries.get()).as("deliveries of read " + i).isEqualTo(1);
            }
            assertThat(loop.completed()).isEqualTo(32);
        } finally {
            loop.shutdown();
            loop.awaitTermination();
        }
    }

    @Test
    void shouldQueueWhileARequestIsInFlight() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 * BLOCK, SEED);
        EngineLoop loop = new EngineLoop(8, 64, "test-engine");
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); EventFd gate = EventFd.open()) {
            settle(loop);
            CountingSink poll = new CountingSink();
            loop.enqueue(Request.poll(gate, POLLIN), poll); // stays in flight until the gate opens
            waitFor(() -> loop.inFlight() == 1 && loop.isSleeping(), "the poll in flight");
            MemorySegment buffers = arena.allocate(16L * BLOCK, BLOCK);
            for (int i = 0; i < 16; i++) {
                CountingSink sink = new CountingSink();
                loop.enqueue(Request.read(file, buffers.asSlice((long) i * BLOCK, BLOCK), (long) i * BLOCK, "aio"),
                        sink);
                sink.await();
                assertThat(sink.result).isEqualTo(BLOCK);
                assertThat(sink.deliveries.get()).isEqualTo(1);
                waitFor(loop::isSleeping, "the loop asleep with the poll in flight");
            }
            assertThat(loop.callerSubmits()).as("requests their caller submitted with the poll in flight").isZero();
            gate.write(1);
            poll.await();
            assertThat(poll.deliveries.get()).isEqualTo(1);
        } finally {
            loop.shutdown();
            loop.awaitTermination();
        }
    }

    @Test
    void shouldNotOfferAfterABusyPeriodWithSeveralRequestsOutstandingUntilOneWithOne() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 * BLOCK, SEED);
        EngineLoop loop = new EngineLoop(8, 64, "test-engine");
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); EventFd gate = EventFd.open()) {
            settle(loop);
            CountingSink poll = new CountingSink();
            loop.enqueue(Request.poll(gate, POLLIN), poll);
            MemorySegment buffer = arena.allocate(BLOCK, BLOCK);
            CountingSink read = new CountingSink();
            loop.enqueue(Request.read(file, buffer, 0, "aio"), read);
            read.await();
            gate.write(1);
            poll.await();
            settle(loop);
            assertThat(loop.offersToSubmitter()).as("offered after two requests were outstanding at once").isFalse();

            long before = loop.callerSubmits();
            CountingSink queued = new CountingSink();
            loop.enqueue(Request.read(file, buffer, BLOCK, "aio"), queued);
            queued.await();
            assertThat(loop.callerSubmits()).as("submitted by its caller").isEqualTo(before);
            // The loop says it is asleep a moment before it offers: on a loaded machine that moment can outlast
            // settle's 50 ms, so the offer that must come is waited for.
            waitFor(loop::offersToSubmitter, "the offer after a busy period of one request");
        } finally {
            loop.shutdown();
            loop.awaitTermination();
        }
    }

    @Test
    void shouldDeliverEachRequestOnceWhenShutdownRacesTheCallersSubmit() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 * BLOCK, SEED);
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            MemorySegment buffer = arena.allocate(BLOCK, BLOCK);
            long fast = 0;
            for (int round = 0; round < 100; round++) {
                EngineLoop loop = new EngineLoop(4, 64, "test-engine");
                waitFor(loop::offersToSubmitter, "the idle loop's offer");
                List<CountingSink> sinks = new ArrayList<>();
                CountDownLatch running = new CountDownLatch(1);
                AtomicReference<Throwable> crash = new AtomicReference<>();
                Thread submitter = Thread.ofPlatform().start(() -> {
                    try {
                        running.countDown();
                        for (int i = 0; i < 4; i++) {
                            CountingSink sink = new CountingSink();
                            synchronized (sinks) {
                                sinks.add(sink);
                            }
                            loop.enqueue(Request.read(file, buffer, (long) i * BLOCK, "aio"), sink);
                        }
                    } catch (Throwable t) {
                        crash.set(t);
                    }
                });
                // The delay counts from the moment the submitter runs, not from its start: starting a thread can
                // take longer than the longest delay, and then no round would see its caller submit.
                running.await();
                long delay = (round % 10) * 20_000L; // 0 to 180 us: before, during and after the submits
                for (long t0 = System.nanoTime(); System.nanoTime() - t0 < delay; ) {
                    Thread.onSpinWait();
                }
                loop.shutdown();
                submitter.join();
                loop.awaitTermination();
                assertThat(crash.get()).isNull();
                fast += loop.callerSubmits();
                synchronized (sinks) {
                    for (CountingSink sink : sinks) {
                        sink.await();
                        assertThat(sink.deliveries.get()).isEqualTo(1);
                        assertThat(sink.error == null ? sink.result == BLOCK
                                : sink.error instanceof AsynchronousCloseException)
                                .as("a read's result or the close").isTrue();
                    }
                }
            }
            assertThat(fast).as("requests their caller submitted in the close races").isPositive();
        }
    }
}
