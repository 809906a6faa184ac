package dev.panaio;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventFdTest {
    private static final int POLLIN = 0x1;
    private static final int POLLOUT = 0x4;

    @Test
    void shouldAddWritesUpAndResetTheCounterOnRead() throws IOException {
        try (EventFd eventFd = EventFd.openNonBlocking()) {
            eventFd.write(1);
            eventFd.write(2);
            eventFd.write(39);
            assertThat(eventFd.read()).isEqualTo(42);
            assertThat(eventFd.read()).as("the read reset the counter").isZero();
        }
    }

    @Test
    void shouldReturnZeroAtOnceFromANonBlockingReadOfAnEmptyCounter() throws IOException {
        try (EventFd eventFd = EventFd.openNonBlocking()) {
            assertThat(eventFd.read()).isZero();
        }
    }

    @Test
    void shouldBlockAReadUntilAnotherThreadWrites() throws Exception {
        try (EventFd eventFd = EventFd.open()) {
            CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return eventFd.read();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }, runnable -> Thread.ofPlatform().start(runnable));
            Thread.sleep(50);
            assertThat(read).as("nothing written yet").isNotDone();
            eventFd.write(7);
            assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(7);
        }
    }

    @Test
    void shouldRejectIncrementsThatAreNotPositiveNamingThem() throws IOException {
        try (EventFd eventFd = EventFd.openNonBlocking()) {
            assertThatThrownBy(() -> eventFd.write(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("eventfd increment must be positive: 0");
            assertThatThrownBy(() -> eventFd.write(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("eventfd increment must be positive: -1");
            assertThat(eventFd.read()).as("nothing reached the counter").isZero();
        }
    }

    @Test
    void shouldFailANonBlockingWriteThatWouldOverflowTheCounterWithEagain() throws IOException {
        try (EventFd eventFd = EventFd.openNonBlocking()) {
            eventFd.write(Long.MAX_VALUE);
            eventFd.write(Long.MAX_VALUE); // 2^64 - 2: the largest count an eventfd holds
            assertThatThrownBy(() -> eventFd.write(1))
                    .isInstanceOfSatisfying(AioException.class, e -> {
                        assertThat(e.call()).isEqualTo("write");
                        assertThat(e.errnoName()).isEqualTo("EAGAIN");
                    })
                    .hasMessageContaining("write(eventfd ")
                    .hasMessageContaining(", 1) failed: EAGAIN (Resource temporarily unavailable)");
        }
    }

    @Test
    void shouldThrowClosedChannelExceptionOnceClosedAndCloseIdempotently() throws IOException {
        EventFd eventFd = EventFd.open();
        assertThat(eventFd.isOpen()).isTrue();
        eventFd.close();
        eventFd.close();
        assertThat(eventFd.isOpen()).isFalse();
        assertThat(eventFd.toString()).endsWith("(closed)");
        assertThatThrownBy(eventFd::read).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> eventFd.write(1)).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void shouldBeReadyForWritingAtOnceSoThePollCompletesInsideIoSubmit() throws IOException {
        try (AioContext aio = AioContext.open(4); EventFd eventFd = EventFd.open()) {
            aio.preparePoll(eventFd, POLLOUT, 1);
            aio.submit();
            List<Long> results = new ArrayList<>();
            // reap makes no system call: the completion was in the ring when io_submit returned.
            assertThat(aio.reap((tag, result) -> results.add(result))).isEqualTo(1);
            assertThat(results).containsExactly((long) POLLOUT);
        }
    }

    @Test
    void shouldCompleteAPollForReadingWhenTheCounterBecomesNonZero() throws IOException {
        try (AioContext aio = AioContext.open(4); EventFd eventFd = EventFd.openNonBlocking()) {
            aio.preparePoll(eventFd, POLLIN | POLLOUT, 1); // POLLOUT is ready at once: it completes the poll
            aio.preparePoll(eventFd, POLLIN, 2);
            aio.submit();
            List<long[]> done = new ArrayList<>();
            aio.reap((tag, result) -> done.add(new long[] {tag, result}));
            assertThat(done).hasSize(1);
            assertThat(done.get(0)).containsExactly(1, POLLOUT);

            eventFd.write(3);
            aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> done.add(new long[] {tag, result}));
            assertThat(done).hasSize(2);
            assertThat(done.get(1)).containsExactly(2, POLLIN);
            assertThat(eventFd.read()).as("polling does not consume the count").isEqualTo(3);
        }
    }

    @Test
    void shouldCancelAPendingPollWhichThenCompletesOnceWithResultZero() throws IOException {
        try (AioContext aio = AioContext.open(4); EventFd eventFd = EventFd.openNonBlocking()) {
            aio.preparePoll(eventFd, POLLIN, 9);
            aio.submit();
            assertThat(aio.cancel(9)).isTrue();
            List<long[]> done = new ArrayList<>();
            aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> done.add(new long[] {tag, result}));
            assertThat(done).hasSize(1);
            assertThat(done.get(0)).containsExactly(9, 0);
            eventFd.write(1);
            assertThat(aio.inFlight()).isZero();
            assertThat(aio.reap((tag, result) -> done.add(new long[] {tag, result})))
                    .as("a cancelled poll never fires").isZero();
        }
    }

    @Test
    void shouldRefuseToPrepareAPollOnAClosedEventFd() throws IOException {
        try (AioContext aio = AioContext.open(4)) {
            EventFd eventFd = EventFd.open();
            eventFd.close();
            assertThatThrownBy(() -> aio.preparePoll(eventFd, POLLIN, 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageMatching("EventFd \\d+ is closed");
            assertThat(aio.prepared()).isZero();
        }
    }

    /**
     * An engine's submitter writes its eventfd once per request while the
     * engine sleeps between requests, and the engine reads it: neither call
     * may allocate on the Java heap once compiled. Measured as
     * AioContextAllocationTest does, by the bytes the JVM counts for this
     * thread, in windows until the JIT has compiled the calls.
     */
    @Test
    void shouldWriteAndReadWithoutAllocatingOnTheJavaHeapOnceCompiled() throws Throwable {
        Object bean = java.lang.management.ManagementFactory.getThreadMXBean();
        Class<?> type = Class.forName("com.sun.management.ThreadMXBean");
        org.junit.jupiter.api.Assumptions.assumeTrue(type.isInstance(bean),
                "this JVM does not count allocated bytes per thread");
        java.lang.invoke.MethodHandle allocated = java.lang.invoke.MethodHandles.publicLookup()
                .findVirtual(type, "getCurrentThreadAllocatedBytes", java.lang.invoke.MethodType.methodType(long.class))
                .bindTo(bean);
        int calls = 50_000;
        try (EventFd eventFd = EventFd.openNonBlocking()) {
            writeAndRead(eventFd, calls); // warm-up
            long bytes = Long.MAX_VALUE;
            long bound = 8L * calls; // any allocation per call is 16 bytes or more
            // Windows until the JIT has compiled the calls, up to a minute: a count of windows ran out once the
            // compiler threads were starved on a loaded machine (as PageCacheReadTest saw).
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
            while (bytes >= bound && System.nanoTime() < deadline) {
                long before = (long) allocated.invokeExact();
                writeAndRead(eventFd, calls);
                long after = (long) allocated.invokeExact();
                bytes = after - before;
                System.out.printf("eventfd write + read: %d bytes allocated for %d of each%n", bytes, calls);
            }
            // Under 8 bytes per call on average means none per call: what is left is the thread's background
            // allocation (tens of KiB a window on a busy machine, seen in AioContextAllocationTest).
            assertThat(bytes).as("bytes allocated on the Java heap for %d writes and reads", calls)
                    .isLessThan(bound);
        }
    }

    /** Writes 1 and reads it back, {@code calls} times; every write must be read. */
    private static void writeAndRead(EventFd eventFd, int calls) throws IOException {
        long sum = 0;
        for (int i = 0; i < calls; i++) {
            eventFd.write(1);
            sum += eventFd.read();
        }
        if (sum != calls) {
            throw new AssertionError(sum + " counted for " + calls + " writes of 1");
        }
    }
}
