package dev.panaio.internal.context;

import dev.panaio.AioContext;
import dev.panaio.EventFd;
import dev.panaio.internal.gen.aio_abi.io_event;
import dev.panaio.internal.ring.AioRingDescriptor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A completion that names no request in flight is refused, not used as an
 * index or delivered. The kernel never posts one, so io_getevents is
 * scripted to ({@link ScriptedCalls}); on the ring, which the reaper reads in
 * user space, the test overwrites a real event's {@code data} in the kernel's
 * mapping (writable: the reaper stores the head there) before it is reaped.
 */
class CompletionReaperTest {
    private static final int POLLIN = 0x1;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    /** A context whose io_getevents, once armed, answers one event naming {@code data}. */
    private static ScriptedCalls.GetEvents oneEvent(long data) {
        return (errno, ctx, minNr, nr, events, timeout) -> {
            MemorySegment event = io_event.asSlice(events, 0);
            io_event.data(event, data);
            io_event.res(event, 0);
            return 1;
        };
    }

    @Test
    void shouldRefuseACompletionNamingASlotThatDoesNotExist() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext aio = calls.open(4); EventFd never = EventFd.open()) {
            aio.preparePoll(never, POLLIN, 7);
            aio.submit();
            List<Long> delivered = new ArrayList<>();
            for (long slot : new long[] {4, 1L << 40, -2}) {
                calls.getEvents = oneEvent(slot);
                assertThatThrownBy(() -> aio.await(1, 1, TimeUnit.SECONDS, (tag, res) -> delivered.add(tag)))
                        .as("slot %d", slot)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("completion for request slot " + slot + ", which is not in flight");
            }
            assertThat(delivered).isEmpty();
            assertThat(aio.inFlight()).as("the poll is still in flight").isEqualTo(1);

            calls.getEvents = ContextCalls.KERNEL::ioGetevents;
            never.write(1);
            assertThat(aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> delivered.add(tag))).isEqualTo(1);
            assertThat(delivered).containsExactly(7L);
        }
    }

    @Test
    void shouldRefuseACompletionForASlotThatIsNotInFlight() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext aio = calls.open(4); EventFd never = EventFd.open()) {
            aio.preparePoll(never, POLLIN, 7); // the first free slot
            aio.submit();
            for (long slot = 1; slot < 4; slot++) { // free slots: never submitted
                calls.getEvents = oneEvent(slot);
                assertThatThrownBy(() -> aio.await(1, 1, TimeUnit.SECONDS, (tag, res) -> { }))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("which is not in flight");
            }
            assertThat(aio.inFlight()).isEqualTo(1);
        }
    }

    @Test
    void shouldRefuseASecondCompletionOfTheSameRequest() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext aio = calls.open(4); EventFd ready = EventFd.open()) {
            aio.preparePoll(ready, POLLIN, 7);
            aio.submit();
            // The poll completes only once the reaper waits in io_getevents, which reports its event twice.
            calls.getEvents = (errno, ctx, minNr, nr, events, timeout) -> {
                try {
                    ready.write(1);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
                long ret = ContextCalls.KERNEL.ioGetevents(errno, ctx, minNr, 1, events, timeout);
                if (ret == 1) {
                    MemorySegment.copy(events, 0, events, io_event.sizeof(), io_event.sizeof());
                    return 2;
                }
                return ret;
            };
            List<Long> delivered = new ArrayList<>();

            assertThatThrownBy(() -> aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> delivered.add(tag)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("completion for request slot 0, which is not in flight");
            calls.getEvents = ContextCalls.KERNEL::ioGetevents;
            aio.reap((tag, res) -> delivered.add(tag));
            assertThat(delivered).as("the first delivery, and no second").containsExactly(7L);
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldRefuseACompletionNamingASlotThatDoesNotExistWhenReapedFromTheRing() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        AtomicLong context = new AtomicLong();
        calls.submit = (errno, ctx, nr, iocbpp) -> {
            context.set(ctx); // the context id is the ring's address
            return ContextCalls.KERNEL.ioSubmit(errno, ctx, nr, iocbpp);
        };
        try (AioContext aio = calls.open(4); EventFd ready = EventFd.open()) {
            assumeTrue(aio.reapsFromRing(), "this kernel's ring header is not the layout panaio reaps from");
            MemorySegment ring = ringOf(context.get(), aio.ringSize());
            ready.write(1); // a poll of a ready eventfd completes inside io_submit
            List<Long> delivered = new ArrayList<>();
            calls.clearLog();
            for (long slot : new long[] {4, 1L << 40, -2}) {
                aio.preparePoll(ready, POLLIN, 7);
                aio.submit();
                int head = awaitEvent(ring);
                ring.set(ValueLayout.JAVA_LONG, eventOffset(head) + AioRingDescriptor.EVENT_DATA_OFFSET, slot);

                assertThatThrownBy(() -> aio.reap((tag, res) -> delivered.add(tag)))
                        .as("slot %d", slot)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("completion for request slot " + slot + ", which is not in flight");
                assertThat(head(ring)).as("the refused event is consumed").isEqualTo((head + 1) % aio.ringSize());
            }
            assertThat(delivered).isEmpty();
            assertThat(calls.calls("io_getevents")).as("every event came from the ring").isEmpty();
            assertThat(aio.inFlight()).as("the three polls whose events were overwritten").isEqualTo(3);

            aio.preparePoll(ready, POLLIN, 8);
            aio.submit();
            awaitEvent(ring);
            assertThat(aio.reap((tag, res) -> delivered.add(tag))).isEqualTo(1);
            assertThat(delivered).as("the ring goes on after a refusal").containsExactly(8L);
        }
    }

    @Test
    void shouldDeliverEachCompletionOnceWhenAHandlerWaitsInIoGeteventsDuringARingReap() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        AtomicLong context = new AtomicLong();
        calls.submit = (errno, ctx, nr, iocbpp) -> {
            context.set(ctx);
            return ContextCalls.KERNEL.ioSubmit(errno, ctx, nr, iocbpp);
        };
        try (AioContext aio = calls.open(4); EventFd now = EventFd.open(); EventFd later = EventFd.open()) {
            assumeTrue(aio.reapsFromRing(), "this kernel's ring header is not the layout panaio reaps from");
            MemorySegment ring = ringOf(context.get(), aio.ringSize());
            aio.preparePoll(later, POLLIN, 7); // stays in the kernel until its eventfd is written
            now.write(1);
            aio.preparePoll(now, POLLIN, 1); // completes inside io_submit: the one event in the ring
            aio.submit();
            awaitEvent(ring);
            // The nested await finds the ring empty and waits in io_getevents, where the other poll completes:
            // the kernel hands that event over itself and moves the ring's head past it, under the outer reap.
            calls.getEvents = (errno, ctx, minNr, nr, events, timeout) -> {
                calls.getEvents = ContextCalls.KERNEL::ioGetevents;
                try {
                    later.write(1);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
                return ContextCalls.KERNEL.ioGetevents(errno, ctx, minNr, nr, events, timeout);
            };
            List<Long> outer = new ArrayList<>();
            List<Long> nested = new ArrayList<>();

            int reaped = aio.reap((tag, res) -> {
                outer.add(tag);
                aio.await(1, 10, TimeUnit.SECONDS, (t, r) -> nested.add(t));
            });

            assertThat(reaped).isEqualTo(1);
            assertThat(outer).containsExactly(1L);
            assertThat(nested).containsExactly(7L);
            assertThat(calls.calls("io_getevents")).as("the nested wait went to the kernel").hasSize(1);
            assertThat(aio.inFlight()).isZero();
            assertThat(aio.reap((tag, res) -> outer.add(tag))).as("nothing is left to deliver twice").isZero();
        }
    }

    @SuppressWarnings("restricted")
    private static MemorySegment ringOf(long ctx, int slots) {
        return MemorySegment.ofAddress(ctx).reinterpret(eventOffset(slots));
    }

    private static long eventOffset(int index) {
        return AioRingDescriptor.EVENTS_OFFSET + index * AioRingDescriptor.EVENT_SIZE;
    }

    private static int head(MemorySegment ring) {
        return (int) INT.getAcquire(ring, AioRingDescriptor.HEAD_OFFSET);
    }

    /** The head, once the kernel has posted an event there (at most 10 s). */
    private static int awaitEvent(MemorySegment ring) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((int) INT.getAcquire(ring, AioRingDescriptor.TAIL_OFFSET) == head(ring)) {
            assertThat(System.nanoTime()).as("the kernel posts the poll's completion").isLessThan(deadline);
            Thread.onSpinWait();
        }
        return head(ring);
    }
}
