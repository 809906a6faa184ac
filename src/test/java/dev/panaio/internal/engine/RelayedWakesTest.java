package dev.panaio.internal.engine;

import dev.panaio.AioEngine;
import dev.panaio.AioFileChannel;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import com.sun.nio.file.ExtendedOpenOption;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RelayedWakes}: every held waiter is woken, by the engine thread or
 * by the first waiter, which takes over the others only when it says it can;
 * and, through {@code AioFileChannel} on real files, virtual threads whose
 * reads an engine thread reaped are relayed and all finish with the file's
 * bytes.
 */
class RelayedWakesTest {
    private static final int SEED = 23;

    @TempDir
    Path dir;

    /** A waiter over a real thread, which takes the others or refuses them as told, and keeps what it was given. */
    private static class Recorded implements RelayedWakes.Waiter {
        final Thread thread;
        final boolean takes;
        Thread[] given;

        Recorded(Thread thread, boolean takes) {
            this.thread = thread;
            this.takes = takes;
        }

        @Override
        public Thread thread() {
            return thread;
        }

        @Override
        public boolean relay(Thread[] others) {
            given = others;
            return takes;
        }
    }

    /** Virtual threads that each park once and count down {@code woken} when unparked. */
    private static List<Thread> parked(int n, CountDownLatch woken) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread t = Thread.ofVirtual().start(() -> {
                LockSupport.park();
                woken.countDown();
            });
            threads.add(t);
        }
        for (Thread t : threads) {
            while (t.getState() != Thread.State.WAITING) {
                Thread.sleep(1);
            }
        }
        return threads;
    }

    @Test
    void shouldUnparkEveryWaiterItselfWhenTheFirstRefusesTheOthers() throws Exception {
        CountDownLatch woken = new CountDownLatch(3);
        List<Thread> threads = parked(3, woken);
        Recorded first = new Recorded(threads.get(0), false);
        RelayedWakes wakes = holding(first, new Recorded(threads.get(1), false), new Recorded(threads.get(2), false));
        long relayedBefore = RelayedWakes.relayed();

        wakes.wakeAll();

        assertThat(first.given).as("offered to the first").containsExactly(threads.get(1), threads.get(2));
        assertThat(woken.await(10, TimeUnit.SECONDS)).as("every waiter unparked").isTrue();
        assertThat(RelayedWakes.relayed() - relayedBefore).as("relayed").isZero();
    }

    @Test
    void shouldUnparkOnlyTheFirstWhenItTakesTheOthers() throws Exception {
        CountDownLatch firstWoken = new CountDownLatch(1);
        Thread firstThread = parked(1, firstWoken).getFirst();
        Thread second = Thread.ofVirtual().unstarted(() -> { });
        Thread third = Thread.ofVirtual().unstarted(() -> { });
        Recorded first = new Recorded(firstThread, true);
        RelayedWakes wakes = holding(first, new Recorded(second, true), new Recorded(third, true));
        long relayedBefore = RelayedWakes.relayed();

        wakes.wakeAll();

        assertThat(first.given).containsExactly(second, third);
        assertThat(firstWoken.await(10, TimeUnit.SECONDS)).as("the first unparked").isTrue();
        assertThat(RelayedWakes.relayed() - relayedBefore).as("relayed").isEqualTo(2);
        // Held no longer: a second wakeAll offers nothing to anyone.
        first.given = null;
        wakes.wakeAll();
        assertThat(first.given).isNull();
        assertThat(wakes.add(new Recorded(second, true))).as("held after the reap").isFalse();
    }

    @Test
    void shouldHoldNothingOutsideAReap() throws Exception {
        CountDownLatch woken = new CountDownLatch(1);
        Recorded waiter = new Recorded(parked(1, woken).getFirst(), true);
        RelayedWakes wakes = new RelayedWakes();

        assertThat(wakes.add(waiter)).as("held with no reap running").isFalse();
        wakes.holdDuringReap();
        wakes.wakeAll();

        assertThat(waiter.given).isNull();
        LockSupport.unpark(waiter.thread); // as the engine thread does when add refuses
        assertThat(woken.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shouldUnparkEveryWaiterItselfWhenTheRelayThrows() throws Exception {
        CountDownLatch woken = new CountDownLatch(3);
        List<Thread> threads = parked(3, woken);
        Recorded failing = new Recorded(threads.get(0), true) {
            @Override
            public boolean relay(Thread[] others) {
                throw new IllegalStateException("a relay that fails");
            }
        };
        RelayedWakes wakes = holding(failing, new Recorded(threads.get(1), true), new Recorded(threads.get(2), true));
        List<Throwable> reported = reportedDuring(wakes::wakeAll);

        assertThat(reported).singleElement().extracting(Throwable::getMessage).isEqualTo("a relay that fails");
        assertThat(woken.await(10, TimeUnit.SECONDS)).as("every waiter unparked").isTrue();
    }

    @Test
    void shouldUnparkALoneWaiterWithoutARelay() throws Exception {
        CountDownLatch woken = new CountDownLatch(1);
        Recorded only = new Recorded(parked(1, woken).getFirst(), true);
        RelayedWakes wakes = holding(only);

        wakes.wakeAll();

        assertThat(woken.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(only.given).as("nothing to relay").isNull();
    }

    @Test
    void shouldWakeWhatItHoldsOnceItIsFullRatherThanDropAWaiter() throws Exception {
        int n = 66;
        CountDownLatch woken = new CountDownLatch(n);
        List<Thread> threads = parked(n, woken);
        RelayedWakes wakes = new RelayedWakes();
        wakes.holdDuringReap();
        for (Thread t : threads) {
            assertThat(wakes.add(new Recorded(t, false))).as("held, the array full or not").isTrue();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (woken.getCount() > 2 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(woken.getCount()).as("woken before wakeAll: all but the two added after the array filled")
                .isEqualTo(2);

        wakes.wakeAll();

        assertThat(woken.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shouldWakeTheOthersItselfWhenTheFirstTookThemButCannotBeWoken() throws Exception {
        CountDownLatch woken = new CountDownLatch(2);
        List<Thread> threads = parked(2, woken);
        Recorded first = new Recorded(Thread.ofVirtual().unstarted(() -> { }), true) {
            @Override
            public Thread thread() {
                throw new IllegalStateException("a first waiter that cannot be woken");
            }
        };
        RelayedWakes wakes = holding(first, new Recorded(threads.get(0), true), new Recorded(threads.get(1), true));
        List<Throwable> reported = reportedDuring(wakes::wakeAll);

        assertThat(first.given).as("taken by the first").containsExactlyElementsOf(threads);
        assertThat(reported).singleElement().extracting(Throwable::getMessage)
                .isEqualTo("a first waiter that cannot be woken");
        assertThat(woken.await(10, TimeUnit.SECONDS)).as("the others unparked by the engine thread").isTrue();
    }

    @Test
    void shouldWakeWhatItHoldsBeforeCallerCodeAndGoOnHolding() throws Exception {
        CountDownLatch woken = new CountDownLatch(2);
        List<Thread> threads = parked(2, woken);
        RelayedWakes wakes = holding(new Recorded(threads.get(0), false), new Recorded(threads.get(1), false));

        wakes.wakeBeforeCallerCode();

        assertThat(woken.await(10, TimeUnit.SECONDS)).as("woken before the caller's code runs").isTrue();
        Recorded later = new Recorded(Thread.ofVirtual().unstarted(() -> { }), true);
        assertThat(wakes.add(later)).as("still holding for the rest of the reap").isTrue();
    }

    /** A reap's holding, with {@code waiters} held (each checked to be). */
    private static RelayedWakes holding(RelayedWakes.Waiter... waiters) {
        RelayedWakes wakes = new RelayedWakes();
        wakes.holdDuringReap();
        for (RelayedWakes.Waiter waiter : waiters) {
            assertThat(wakes.add(waiter)).as("held during a reap").isTrue();
        }
        return wakes;
    }

    /** Runs {@code body} with this thread's uncaught-exception handler collecting what is reported. */
    private static List<Throwable> reportedDuring(Runnable body) {
        Thread.UncaughtExceptionHandler before = Thread.currentThread().getUncaughtExceptionHandler();
        List<Throwable> reported = new ArrayList<>();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            body.run();
        } finally {
            Thread.currentThread().setUncaughtExceptionHandler(before);
        }
        return reported;
    }

    /**
     * Many virtual threads reading a file with O_DIRECT through one engine:
     * its reaps finish several waits at once, which the first waiter relays,
     * and every read ends with the file's bytes.
     */
    @Test
    void shouldRelayTheWakesOfVirtualThreadsReadingThroughTheEngineAndFinishEveryRead() throws Exception {
        int threads = 64;
        int readsEach = 200;
        Path path = TestData.writeFile(dir.resolve("data"), 8 << 20, SEED);
        long relayedBefore = RelayedWakes.relayed();
        AtomicLong reads = new AtomicLong();
        AtomicLong mismatches = new AtomicLong();
        try (AioEngine engine = AioEngine.open();
             FileChannel channel = AioFileChannel.open(path, Set.of(READ, ExtendedOpenOption.DIRECT), engine)) {
            long blocks = channel.size() / 4096;
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                readers.add(Thread.ofVirtual().start(() -> {
                    ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096);
                    try {
                        for (int i = 0; i < readsEach; i++) {
                            long position = ((seed * 7919L + i * 104729L) % blocks) * 4096;
                            block.clear();
                            channel.read(block, position);
                            reads.incrementAndGet();
                            if (block.get(17) != TestData.byteAt(position + 17, SEED)) {
                                mismatches.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        mismatches.incrementAndGet();
                    }
                }));
            }
            for (Thread reader : readers) {
                assertThat(reader.join(Duration.ofSeconds(60))).as("a reader finished").isTrue();
            }
        }
        assertThat(reads.get()).isEqualTo((long) threads * readsEach);
        assertThat(mismatches.get()).isZero();
        assertThat(RelayedWakes.relayed() - relayedBefore).as("wake-ups relayed by a first waiter").isPositive();
    }
}
