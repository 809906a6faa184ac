package dev.panaio.internal.context;

import dev.panaio.AioArena;
import dev.panaio.AioEngine;
import dev.panaio.AioEngineStats;
import dev.panaio.AioFile;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.testing.TestData;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An engine whose io_submit answers EAGAIN once and then accepts part of a
 * batch ({@link ScriptedCalls}, since the kernel does neither on demand for
 * a context that admits only what fits): each shows as a dev.panaio.SubmitRetry
 * JFR event, read back from a recording, and in the engine's counters, in
 * {@link AioEngine#stats()} and through the platform MBean server.
 */
class EngineSubmitRetryTest {
    private static final int SEED = 11;
    private static final int BLOCK = 4096;
    private static final String EVENT = "dev.panaio.SubmitRetry";
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    @TempDir
    Path dir;

    @Test
    void shouldRecordAndCountAnEagainAndAPartialSubmit() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 16L * BLOCK, SEED);
        ScriptedCalls calls = new ScriptedCalls();
        Path recorded = dir.resolve("recording.jfr");
        try (AioEngine engine = calls.openEngine(AioEngine.builder().name("submit-retry-test").threads(1)
                .capacity(8));
             AioFile file = AioFile.open(path, READ);
             AioArena arena = AioArena.open();
             Recording recording = new Recording()) {
            recording.enable(EVENT);
            recording.start();
            CountDownLatch moreQueued = new CountDownLatch(1);
            AtomicInteger call = new AtomicInteger();
            // Request A's first io_submit waits until B and C are queued, then says EAGAIN (nothing is in flight,
            // so the engine backs off and offers A again). B and C then go as one batch of 2, of which the kernel
            // takes 1; the engine offers the other again.
            calls.submit = (errno, ctx, nr, iocbpp) -> switch (call.getAndIncrement()) {
                case 0 -> {
                    awaitQuietly(moreQueued);
                    yield -ErrnoExceptions.EAGAIN;
                }
                case 2 -> ContextCalls.KERNEL.ioSubmit(errno, ctx, 1, iocbpp);
                default -> ContextCalls.KERNEL.ioSubmit(errno, ctx, nr, iocbpp);
            };
            calls.clearLog(); // the context's own wake-up poll, submitted at open
            MemorySegment[] buffers = new MemorySegment[3];
            for (int i = 0; i < 3; i++) {
                buffers[i] = arena.allocate(BLOCK, BLOCK);
            }

            CompletableFuture<Integer> a = engine.read(file, buffers[0], 0);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (call.get() == 0) {
                assertThat(System.nanoTime()).as("the engine thread reaches io_submit").isLessThan(deadline);
                Thread.sleep(1);
            }
            CompletableFuture<Integer> b = engine.read(file, buffers[1], BLOCK);
            CompletableFuture<Integer> c = engine.read(file, buffers[2], 2L * BLOCK);
            assertThat(engine.stats().queued()).as("B and C wait while A is in io_submit").isEqualTo(2);
            moreQueued.countDown();
            assertThat(List.of(a.get(10, TimeUnit.SECONDS), b.get(10, TimeUnit.SECONDS),
                    c.get(10, TimeUnit.SECONDS))).containsExactly(BLOCK, BLOCK, BLOCK);
            for (int i = 0; i < 3; i++) {
                assertThat(TestData.firstMismatch(buffers[i], (long) i * BLOCK, SEED)).as("bytes of read %d", i)
                        .isEqualTo(-1);
            }
            recording.stop();
            recording.dump(recorded);

            assertThat(calls.calls("io_submit")).extracting(ScriptedCalls.Call::nr)
                    .as("A refused, A again, B and C of which one was taken, C again")
                    .containsExactly(1L, 1L, 2L, 1L);
            AioEngineStats stats = engine.stats();
            assertThat(stats.eagainRetries()).isEqualTo(1);
            assertThat(stats.partialSubmits()).isEqualTo(1);
            assertThat(stats.ioSubmitCalls()).isEqualTo(4);
            assertThat(stats.requestsSubmitted()).isEqualTo(3);
            assertThat(stats.requestsCompleted()).isEqualTo(3);
            ObjectName name = new ObjectName("dev.panaio:type=AioEngine,name=submit-retry-test");
            assertThat(SERVER.getAttribute(name, "EagainRetries")).isEqualTo(1L);
            assertThat(SERVER.getAttribute(name, "PartialSubmits")).isEqualTo(1L);
            assertThat(SERVER.getAttribute(name, "IoSubmitCalls")).isEqualTo(4L);
        }

        List<RecordedEvent> retries = RecordingFile.readAllEvents(recorded).stream()
                .filter(e -> e.getEventType().getName().equals(EVENT))
                .sorted(Comparator.comparing(RecordedEvent::getStartTime))
                .toList();
        assertThat(retries).hasSize(2);
        assertThat(retries).allSatisfy(e -> {
            assertThat(e.getThread().getJavaName()).startsWith("panaio-engine-");
            assertThat(e.getDuration()).as("an instant event").isEqualTo(Duration.ZERO);
        });
        RecordedEvent eagain = retries.get(0);
        assertThat(eagain.getInt("requested")).isEqualTo(1);
        assertThat(eagain.getInt("accepted")).isZero();
        assertThat(eagain.getBoolean("eagain")).isTrue();
        RecordedEvent partial = retries.get(1);
        assertThat(partial.getInt("requested")).isEqualTo(2);
        assertThat(partial.getInt("accepted")).isEqualTo(1);
        assertThat(partial.getBoolean("eagain")).isFalse();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the test never queued B and C");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
