package dev.panaio.internal.engine;

import dev.panaio.AioFile;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A thread's held wake-ups of sleeping engine loops: held only while it
 * holds them and only for requests that call a handler back, the watcher
 * told once per held stretch, and every one sent when they are released.
 * An fsync is the request: the loop never lets its caller submit one, so only
 * the loop's thread, once woken, sends it to the kernel.
 */
class HeldSignalsTest {
    private static final int SEED = 67;

    @TempDir
    Path dir;

    /** An fsync's sink that says whether its submitter may wait, and counts when it is done. */
    private static final class Sink implements CompletionSink {
        private final boolean submitterMayWait;
        final CountDownLatch done = new CountDownLatch(1);

        Sink(boolean submitterMayWait) {
            this.submitterMayWait = submitterMayWait;
        }

        @Override
        public void finish(long result) {
            done.countDown();
        }

        @Override
        public void fail(Throwable error) {
            done.countDown();
        }

        @Override
        public boolean submitterMayWait() {
            return submitterMayWait;
        }
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waiting for " + what).isNegative();
            Thread.sleep(1);
        }
    }

    /** Runs {@code body} on a new thread, which gets its own holder, and waits for it. */
    private static void onNewThread(ThrowingRunnable body) throws Exception {
        Exception[] failure = new Exception[1];
        Thread thread = Thread.ofPlatform().start(() -> {
            try {
                body.run();
            } catch (Exception | AssertionError e) {
                failure[0] = e instanceof Exception ex ? ex : new Exception(e);
            }
        });
        thread.join(TimeUnit.SECONDS.toMillis(60));
        assertThat(thread.isAlive()).as("the test thread still running after 60 s").isFalse();
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private interface LoopBody {
        void run(EngineLoop loop, AioFile file) throws Exception;
    }

    /**
     * Runs {@code body} on a new thread (which gets its own holder) with a loop of its own and a small file to
     * fsync, and waits for it; the loop is shut down afterwards.
     */
    private void withLoopOnNewThread(LoopBody body) throws Exception {
        Path path = TestData.writeFile(dir.resolve("synced"), 4096, SEED);
        EngineLoop loop = new EngineLoop(8, 64, "held-signals");
        try (AioFile file = AioFile.open(path, READ)) {
            onNewThread(() -> body.run(loop, file));
        } finally {
            loop.shutdown();
            loop.awaitTermination();
        }
    }

    @Test
    void shouldHoldAHandlersWakeUpUntilReleasedAndTellTheWatcherOnce() throws Exception {
        withLoopOnNewThread((loop, file) -> {
            AtomicInteger watched = new AtomicInteger();
            HeldSignals signals = HeldSignals.forThisThread(() -> watched.incrementAndGet() > 0);
            waitFor(() -> loop.isSleeping() && loop.outstanding() == 0, "the loop to go to sleep");

            signals.hold();
            Sink first = new Sink(false);
            Sink second = new Sink(false);
            loop.enqueue(Request.sync(Request.Kind.FSYNC, file), first);
            loop.enqueue(Request.sync(Request.Kind.FSYNC, file), second);
            assertThat(signals.hasHeldWakeups()).as("a wake-up held").isTrue();
            assertThat(watched.get()).as("the watcher told once for the held stretch").isEqualTo(1);
            // The loop sleeps on: nothing else would wake it.
            assertThat(first.done.await(200, TimeUnit.MILLISECONDS)).as("done while held").isFalse();
            assertThat(loop.isSleeping()).as("the loop asleep while its wake-up is held").isTrue();

            signals.release();
            assertThat(signals.hasHeldWakeups()).as("nothing held after the release").isFalse();
            assertThat(first.done.await(10, TimeUnit.SECONDS)).as("the first done once released").isTrue();
            assertThat(second.done.await(10, TimeUnit.SECONDS)).as("the second done once released").isTrue();
        });
    }

    @Test
    void shouldNeverHoldTheWakeUpOfASubmitterThatMayWaitOrOfAThreadNotHolding() throws Exception {
        withLoopOnNewThread((loop, file) -> {
            HeldSignals signals = HeldSignals.forThisThread(() -> true);
            waitFor(() -> loop.isSleeping() && loop.outstanding() == 0, "the loop to go to sleep");
            signals.hold();
            Sink mayWait = new Sink(true); // a parked caller, a future's get: the engine is woken at once
            loop.enqueue(Request.sync(Request.Kind.FSYNC, file), mayWait);
            assertThat(signals.hasHeldWakeups()).isFalse();
            assertThat(mayWait.done.await(10, TimeUnit.SECONDS)).as("done while the thread holds").isTrue();
            signals.release();

            waitFor(() -> loop.isSleeping() && loop.outstanding() == 0, "the loop to go to sleep again");
            Sink notHolding = new Sink(false); // a handler's request, but the thread does not hold now
            loop.enqueue(Request.sync(Request.Kind.FSYNC, file), notHolding);
            assertThat(signals.hasHeldWakeups()).isFalse();
            assertThat(notHolding.done.await(10, TimeUnit.SECONDS)).as("done with nothing held").isTrue();
        });
    }

    @Test
    void shouldLeaveTheWakeUpToTheCallerWhenTheWatcherCannotBeTold() throws Exception {
        withLoopOnNewThread((loop, file) -> {
            HeldSignals signals = HeldSignals.forThisThread(() -> false); // the watcher's thread could not start
            waitFor(() -> loop.isSleeping() && loop.outstanding() == 0, "the loop to go to sleep");
            signals.hold();
            Sink sink = new Sink(false);
            loop.enqueue(Request.sync(Request.Kind.FSYNC, file), sink);
            assertThat(signals.hasHeldWakeups()).as("nothing left held for no watcher").isFalse();
            assertThat(sink.done.await(10, TimeUnit.SECONDS)).as("done while the thread holds").isTrue();
            signals.release();
        });
    }

    @Test
    void shouldRunAHeldTaskStartOnceAtTheReleaseInOrderWithWakeUpsAndNeverWhenNotHolding() throws Exception {
        withLoopOnNewThread((loop, file) -> {
            AtomicInteger watched = new AtomicInteger();
            HeldSignals signals = HeldSignals.forThisThread(() -> watched.incrementAndGet() > 0);
            AtomicInteger first = new AtomicInteger();
            AtomicInteger second = new AtomicInteger();
            assertThat(HeldSignals.heldStart(first::incrementAndGet)).as("held by a thread not holding").isFalse();
            assertThat(first.get()).as("left to the caller").isZero();

            waitFor(() -> loop.isSleeping() && loop.outstanding() == 0, "the loop to go to sleep");
            signals.hold();
            assertThat(HeldSignals.heldStart(first::incrementAndGet)).isTrue();
            Sink sink = new Sink(false);
            loop.enqueue(Request.sync(Request.Kind.FSYNC, file), sink);
            assertThat(HeldSignals.heldStart(second::incrementAndGet)).isTrue();
            assertThat(signals.hasHeldWakeups()).as("starts and a wake-up held").isTrue();
            assertThat(watched.get()).as("the watcher told once for the held stretch").isEqualTo(1);
            assertThat(first.get() + second.get()).as("no start run while held").isZero();

            signals.release();
            assertThat(first.get()).as("the first start run once at the release").isEqualTo(1);
            assertThat(second.get()).as("the second start run once at the release").isEqualTo(1);
            assertThat(sink.done.await(10, TimeUnit.SECONDS)).as("the wake-up sent too").isTrue();
            signals.release();
            assertThat(first.get() + second.get()).as("a second release runs nothing again").isEqualTo(2);
        });
    }

    @Test
    void shouldLeaveATaskStartToTheCallerAloneWhenTheWatcherCannotBeTold() throws Exception {
        onNewThread(() -> {
            HeldSignals signals = HeldSignals.forThisThread(() -> false); // the watcher's thread could not start
            signals.hold();
            AtomicInteger started = new AtomicInteger();
            assertThat(HeldSignals.heldStart(started::incrementAndGet)).as("left to the caller").isFalse();
            assertThat(signals.hasHeldWakeups()).as("nothing left held for no watcher").isFalse();
            signals.release();
            assertThat(started.get()).as("not run by the release: the caller runs it, once").isZero();
        });
    }

    @Test
    void shouldLeaveATaskStartToTheCallerWhenTellingTheWatcherThrows() throws Exception {
        onNewThread(() -> {
            HeldSignals signals = HeldSignals.forThisThread(() -> {
                throw new OutOfMemoryError("no memory for the watcher's list (a test's stand-in)");
            });
            Thread.UncaughtExceptionHandler before = Thread.currentThread().getUncaughtExceptionHandler();
            AtomicInteger reported = new AtomicInteger();
            Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.incrementAndGet());
            try {
                signals.hold();
                AtomicInteger started = new AtomicInteger();
                assertThat(HeldSignals.heldStart(started::incrementAndGet)).as("left to the caller").isFalse();
                assertThat(signals.hasHeldWakeups()).as("nothing left held for no watcher").isFalse();
                assertThat(reported.get()).as("the failure reported once").isEqualTo(1);
                signals.release();
                assertThat(started.get()).as("not run by the release: the caller runs it, once").isZero();
            } finally {
                Thread.currentThread().setUncaughtExceptionHandler(before);
            }
        });
    }
}
