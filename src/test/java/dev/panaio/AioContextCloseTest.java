package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.ProcessResources;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * AioContext used after close, from two threads at once, and closed under a waiter or with I/O in flight.
 */
class AioContextCloseTest {
    private static final int SEED = 7;

    @TempDir
    Path dir;

    @Test
    void shouldRejectUseAfterCloseAndCloseIdempotently() throws IOException {
        AioContext aio = AioContext.open(8);
        aio.close();
        aio.close();
        assertThat(aio.isClosed()).isTrue();
        assertThatThrownBy(aio::submit).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> aio.reap((t, r) -> { })).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldRefuseUseFromTwoThreadsAtOnce() throws Exception {
        try (AioContext aio = AioContext.open(8); EventFd never = EventFd.open()) {
            aio.preparePoll(never, 1, 1);
            aio.submit();
            CountDownLatch inHandler = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            never.write(1);
            Thread reaper = Thread.ofPlatform().start(() -> aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> {
                inHandler.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertThat(inHandler.await(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> aio.reap((t, r) -> { })).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("in use by another thread");
            release.countDown();
            reaper.join();
        }
    }

    @Test
    void shouldWakeAWaiterWhenClosedFromAnotherThread() throws Exception {
        AioContext aio = AioContext.open(8);
        try (EventFd never = EventFd.open()) {
            aio.preparePoll(never, 1, 1);
            aio.submit();
            AtomicReference<Object> outcome = new AtomicReference<>();
            Map<Long, Long> delivered = new java.util.concurrent.ConcurrentHashMap<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    outcome.set(aio.await(1, delivered::put));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            // The close must land while the waiter is inside io_getevents, not before it gets there.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!inIoGetevents(waiter) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(inIoGetevents(waiter)).as("waiter inside io_getevents").isTrue();
            // io_destroy cancels the pending poll, which completes it, and wakes io_getevents.
            aio.close();
            waiter.join(10_000);
            assertThat(waiter.isAlive()).isFalse();
            // Either the cancelled poll's completion was delivered, or nothing was and await says closed.
            if (outcome.get() instanceof Integer n) {
                assertThat(n).isEqualTo(1);
                assertThat(delivered).containsOnlyKeys(1L);
            } else {
                assertThat(outcome.get()).isInstanceOfSatisfying(IllegalStateException.class,
                        e -> assertThat(e).hasMessageContaining("closed"));
                assertThat(delivered).isEmpty();
            }
        }
    }

    private static boolean inIoGetevents(Thread thread) {
        return java.util.Arrays.stream(thread.getStackTrace())
                .anyMatch(frame -> frame.getMethodName().equals("io_getevents"));
    }

    @Test
    void shouldWaitForInFlightIoOnCloseAndGiveBackTheAioBudget() throws IOException {
        Path path = TestData.writeFile(dir.resolve("inflight"), 8 << 20, SEED);
        // fs.aio-nr is system-wide: a difference counts only while no other process opened or closed a context.
        ProcessResources beforeOpen = null;
        ProcessResources afterOpen = null;
        AioContext aio = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            if (aio != null) {
                aio.close();
            }
            beforeOpen = ProcessResources.now();
            aio = AioContext.open(256);
            afterOpen = ProcessResources.now();
            if (!afterOpen.otherProcessesChangedAioContexts(beforeOpen)) {
                break;
            }
        }
        assumeTrue(!afterOpen.otherProcessesChangedAioContexts(beforeOpen),
                "other processes kept opening and closing AIO contexts: " + beforeOpen.otherAioRings() + " -> "
                        + afterOpen.otherAioRings());
        // io_setup is asked for the capacity plus one event for the context's wake-up poll (AioLimitExceptionTest).
        assertThat(afterOpen.aioNr() - beforeOpen.aioNr()).as("fs.aio-nr charged for open(256)").isEqualTo(257);
        assertThat(afterOpen.aioRings()).isEqualTo(beforeOpen.aioRings() + 1);
        // AioArena memory is read into in place (a caller's shared arena would be bounced, and close() discards
        // what was not reaped).
        AioArena inPlace = AioArena.open();
        MemorySegment buffers = inPlace.allocate(256 * 4096L, 4096);
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            for (int i = 0; i < 200; i++) {
                aio.prepareRead(file, buffers.asSlice(i * 4096L, 4096), i * 40960L, i);
            }
            aio.submit();
            aio.close();
        }
        ProcessResources afterClose = ProcessResources.now();
        // io_destroy returned only after every read finished: the buffers hold the file's bytes and stay so.
        byte[] snapshot = buffers.asSlice(0, 200 * 4096L).toArray(ValueLayout.JAVA_BYTE);
        for (int i = 0; i < 200; i++) {
            assertThat(TestData.firstMismatch(buffers.asSlice(i * 4096L, 4096), i * 40960L, SEED)).isEqualTo(-1);
        }
        assertThat(buffers.asSlice(0, 200 * 4096L).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(snapshot);
        assertThat(afterClose.aioRings()).as("this process's AIO rings").isEqualTo(beforeOpen.aioRings());
        if (!afterClose.otherProcessesChangedAioContexts(afterOpen)) {
            assertThat(afterOpen.aioNr() - afterClose.aioNr()).as("fs.aio-nr given back by close()").isEqualTo(257);
        }
        assertThat(inPlace.inFlight()).isZero();
        inPlace.close();
    }

    @Test
    void shouldReturnFromAnUnboundedAwaitForSeveralWhenClosed() throws Exception {
        AioContext aio = AioContext.open(4);
        try (EventFd a = EventFd.open(); EventFd b = EventFd.open()) {
            aio.preparePoll(a, 1, 1);
            aio.preparePoll(b, 1, 2);
            aio.submit();
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    aio.await(2, (tag, result) -> { }); // no timeout, more than one
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            Thread.sleep(100);
            Thread closer = Thread.ofPlatform().start(aio::close);
            closer.join(10_000);
            assertThat(closer.isAlive()).as("close() with a waiter in await(2)").isFalse();
            waiter.join(10_000);
            assertThat(waiter.isAlive()).isFalse();
            if (outcome.get() != null) {
                assertThat(outcome.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            }
        }
    }
}
