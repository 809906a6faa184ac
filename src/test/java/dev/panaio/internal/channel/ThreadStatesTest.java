package dev.panaio.internal.channel;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@link ThreadStates} says of real threads of this process: its
 * answers are checked against the kernel's own files read another way, and
 * against threads put in the state asked about (blocked in a pipe read,
 * parked, spinning).
 */
class ThreadStatesTest {

    /** How long a test waits for a thread to reach the state it is put in. */
    private static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(30);

    @Test
    void shouldGiveTheCallingThreadsKernelIdAsProcDoes() throws Exception {
        long tid = ThreadStates.currentTid();
        // The same id another way: /proc/self/task has a directory of that id, and /proc/thread-self points to it.
        assertThat(tid).isPositive();
        assertThat(Files.exists(Path.of("/proc/self/task/" + tid))).isTrue();
        assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self")).toString()).endsWith("/task/" + tid);
    }

    @Test
    void shouldGiveNoKernelIdForAVirtualThread() throws Exception {
        CompletableFuture<Long> tid = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> tid.complete(ThreadStates.currentTid())).join();
        assertThat(tid.get()).isEqualTo(-1L);
    }

    @Test
    void shouldSayAThreadBlockedInAPipeReadSleepsElsewhereThanInFutex() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            CompletableFuture<Long> tid = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                tid.complete(ThreadStates.currentTid());
                try {
                    source.read(ByteBuffer.allocate(1)); // blocks in read(2) until the write below
                } catch (Exception e) {
                    // closed at the end of the test
                }
            });
            assertThat(settlesAt(tid.get(), ThreadStates.Sleep.ELSEWHERE)).as("a thread in read(2) on a pipe")
                    .isEqualTo(ThreadStates.Sleep.ELSEWHERE);
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            reader.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    @Test
    void shouldSayAParkedThreadSleepsInFutex() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Long> tid = new CompletableFuture<>();
        Thread parked = Thread.ofPlatform().daemon().start(() -> {
            tid.complete(ThreadStates.currentTid());
            try {
                release.await(); // a park: futex(2) in the kernel
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(settlesAt(tid.get(), ThreadStates.Sleep.FUTEX)).as("a parked thread")
                    .isEqualTo(ThreadStates.Sleep.FUTEX);
        } finally {
            release.countDown();
            parked.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    @Test
    void shouldSayASpinningThreadDoesNotSleepAndUsesCpu() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<Long> tid = new CompletableFuture<>();
        Thread spinner = Thread.ofPlatform().daemon().start(() -> {
            tid.complete(ThreadStates.currentTid());
            while (!stop.get()) {
                Thread.onSpinWait();
            }
        });
        try {
            long first = ThreadStates.cpuNanos(spinner);
            assertThat(settlesAt(tid.get(), ThreadStates.Sleep.NO)).as("a spinning thread")
                    .isEqualTo(ThreadStates.Sleep.NO);
            long deadline = System.nanoTime() + SETTLE_NANOS;
            while (ThreadStates.cpuNanos(spinner) - first < TimeUnit.MILLISECONDS.toNanos(10)
                    && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(ThreadStates.cpuNanos(spinner) - first).as("CPU time it used, in nanoseconds")
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(10));
        } finally {
            stop.set(true);
            spinner.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    @Test
    void shouldAnswerNotAsleepForAnUnknownThread() {
        assertThat(ThreadStates.sleepOf(-1)).isEqualTo(ThreadStates.Sleep.NO);
        assertThat(ThreadStates.sleepOf(Integer.MAX_VALUE)).as("no such task").isEqualTo(ThreadStates.Sleep.NO);
    }

    /** What {@code tid} is found doing once it is {@code expected}, or what it was at the deadline. */
    private static ThreadStates.Sleep settlesAt(long tid, ThreadStates.Sleep expected) throws InterruptedException {
        long deadline = System.nanoTime() + SETTLE_NANOS;
        ThreadStates.Sleep sleep = ThreadStates.sleepOf(tid);
        while (sleep != expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
            sleep = ThreadStates.sleepOf(tid);
        }
        return sleep;
    }
}
