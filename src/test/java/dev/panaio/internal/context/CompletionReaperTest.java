package dev.panaio.internal.context;

import dev.panaio.AioContext;
import dev.panaio.EventFd;
import dev.panaio.internal.gen.aio_abi.io_event;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A completion that names no request in flight is refused, not used as an
 * index or delivered. The kernel never posts one, so io_getevents is
 * scripted to ({@link ScriptedCalls}); the ring's own reaping goes through
 * the same check.
 */
class CompletionReaperTest {
    private static final int POLLIN = 0x1;

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
}
