package dev.panaio.internal.context;

import dev.panaio.AioContext;
import dev.panaio.AioFile;
import dev.panaio.CompletionConsumer;
import dev.panaio.EventFd;
import dev.panaio.SubmitException;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The submitter's answers to a kernel that has no room: a partial io_submit,
 * and EAGAIN with and without requests in flight. The kernel does not answer
 * so on demand (a context admits only what always fits), so these tests
 * script io_submit through {@link ScriptedCalls}; the reads themselves are
 * real.
 */
class SubmitterTest {
    private static final int SEED = 15;
    private static final int BLOCK = 4096;
    private static final int POLLIN = 0x1;
    private static final long ROOM_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    @TempDir
    Path dir;

    private Arena arena;
    private AioFile file;

    @BeforeEach
    void openFile() throws IOException {
        arena = Arena.ofShared();
        file = AioFile.open(TestData.writeFile(dir.resolve("data"), 16L * BLOCK, SEED), READ);
    }

    @AfterEach
    void closeFile() throws IOException {
        file.close();
        arena.close();
    }

    /** Completions by tag, so that a duplicate shows. */
    private static final class Deliveries implements CompletionConsumer {
        final Map<Long, List<Long>> byTag = new HashMap<>();

        @Override
        public void onCompletion(long tag, long result) {
            byTag.computeIfAbsent(tag, t -> new ArrayList<>()).add(result);
        }

        int count() {
            return byTag.values().stream().mapToInt(List::size).sum();
        }
    }

    /** Awaits until nothing is in flight, or 20 waits of a second found nothing more. */
    private static Deliveries drain(AioContext aio, Deliveries into) {
        for (int i = 0; i < 20 && aio.inFlight() > 0; i++) {
            aio.await(1, 1, TimeUnit.SECONDS, into);
        }
        aio.reap(into);
        return into;
    }

    private MemorySegment[] prepareReads(AioContext aio, int count, long firstTag) throws IOException {
        MemorySegment[] buffers = new MemorySegment[count];
        for (int i = 0; i < count; i++) {
            buffers[i] = arena.allocate(BLOCK, BLOCK);
            aio.prepareRead(file, buffers[i], (long) i * BLOCK, firstTag + i);
        }
        return buffers;
    }

    private static void assertEachReadOnce(Deliveries done, MemorySegment[] buffers, long firstTag) {
        for (int i = 0; i < buffers.length; i++) {
            assertThat(done.byTag.get(firstTag + i)).as("completions of tag %d", firstTag + i)
                    .containsExactly((long) BLOCK);
            assertThat(TestData.firstMismatch(buffers[i], (long) i * BLOCK, SEED)).as("bytes of read %d", i)
                    .isEqualTo(-1);
        }
    }

    @Test
    void shouldSubmitTheRestWhenTheKernelAcceptsOneRequestAtATime() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext aio = calls.open(8)) {
            calls.clearLog();
            calls.submit = (errno, ctx, nr, iocbpp) -> ContextCalls.KERNEL.ioSubmit(errno, ctx, 1, iocbpp);
            MemorySegment[] buffers = prepareReads(aio, 8, 0);

            assertThat(aio.submit()).isEqualTo(8);

            assertThat(calls.calls("io_submit")).extracting(ScriptedCalls.Call::nr)
                    .as("each io_submit offers what the kernel has not taken yet")
                    .containsExactly(8L, 7L, 6L, 5L, 4L, 3L, 2L, 1L);
            assertThat(aio.prepared()).isZero();
            Deliveries done = drain(aio, new Deliveries());
            assertThat(done.count()).isEqualTo(8);
            assertEachReadOnce(done, buffers, 0);
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldWaitBoundedForCompletionsWhileTheKernelSaysEagainWithRequestsInFlight() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext aio = calls.open(8); EventFd never = EventFd.open()) {
            aio.preparePoll(never, POLLIN, 100); // in flight until the end: nothing completes it
            aio.submit();
            calls.clearLog();
            AtomicInteger refusals = new AtomicInteger(3);
            calls.submit = (errno, ctx, nr, iocbpp) -> refusals.getAndDecrement() > 0
                    ? -ErrnoExceptions.EAGAIN : ContextCalls.KERNEL.ioSubmit(errno, ctx, nr, iocbpp);
            MemorySegment[] buffers = prepareReads(aio, 4, 0);

            assertThat(aio.submit()).isEqualTo(4);

            assertThat(calls.calls("io_submit")).extracting(ScriptedCalls.Call::result)
                    .containsExactly((long) -ErrnoExceptions.EAGAIN, (long) -ErrnoExceptions.EAGAIN,
                            (long) -ErrnoExceptions.EAGAIN, 4L);
            List<ScriptedCalls.Call> waits = calls.calls("io_getevents");
            assertThat(waits).as("one wait for room after each EAGAIN").hasSize(3);
            assertThat(waits).allSatisfy(wait -> {
                assertThat(wait.minNr()).as("returns on the first completion").isEqualTo(1);
                assertThat(wait.timeoutNanos()).as("never waits without a limit, nor over 10 ms")
                        .isBetween(0L, ROOM_WAIT_NANOS);
            });
            assertThat(aio.inFlight()).isEqualTo(5);

            never.write(1);
            Deliveries done = drain(aio, new Deliveries());
            assertThat(done.count()).isEqualTo(5);
            assertThat(done.byTag.get(100L)).as("the poll's completions").hasSize(1);
            assertEachReadOnce(done, buffers, 0);
        }
    }

    @Test
    void shouldQueueCompletionsReapedWhileWaitingForRoomAndDeliverEachOnce() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext aio = calls.open(8)) {
            MemorySegment[] first = prepareReads(aio, 3, 0);
            aio.submit(); // buffered reads: complete inside io_submit, and wait in the ring
            AtomicInteger refusals = new AtomicInteger(1);
            calls.submit = (errno, ctx, nr, iocbpp) -> refusals.getAndDecrement() > 0
                    ? -ErrnoExceptions.EAGAIN : ContextCalls.KERNEL.ioSubmit(errno, ctx, nr, iocbpp);
            MemorySegment[] second = new MemorySegment[3];
            for (int i = 0; i < 3; i++) {
                second[i] = arena.allocate(BLOCK, BLOCK);
                aio.prepareRead(file, second[i], (long) (3 + i) * BLOCK, 3 + i);
            }

            assertThat(aio.submit()).isEqualTo(3);

            Deliveries done = drain(aio, new Deliveries());
            assertThat(done.count()).as("the 3 taken from the ring while waiting for room, and the 3 after")
                    .isEqualTo(6);
            assertEachReadOnce(done, first, 0);
            for (int i = 0; i < 3; i++) {
                assertThat(done.byTag.get(3L + i)).containsExactly((long) BLOCK);
                assertThat(TestData.firstMismatch(second[i], (long) (3 + i) * BLOCK, SEED)).isEqualTo(-1);
            }
        }
    }

    @Test
    void shouldBackOffAndThenNameTheRequestWhenTheKernelKeepsSayingEagainWithNothingInFlight()
            throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext aio = calls.open(8)) {
            calls.clearLog();
            calls.submit = (errno, ctx, nr, iocbpp) -> -ErrnoExceptions.EAGAIN;
            prepareReads(aio, 3, 10);

            SubmitException e = catchThrowableOfType(SubmitException.class, aio::submit);

            assertThat(e.failedIndex()).isZero();
            assertThat(e.failedTag()).isEqualTo(10);
            assertThat(e.unsubmittedTags()).containsExactly(11, 12);
            assertThat(e.errno()).isEqualTo(ErrnoExceptions.EAGAIN);
            assertThat(e).hasMessageContaining("request 0 of a batch of 3 (tag 10")
                    .hasMessageContaining("the kernel kept refusing room for it (100 tries)");
            assertThat(calls.calls("io_submit")).as("the first try and 100 more").hasSize(101);
            assertThat(calls.calls("io_getevents")).as("nothing in flight to wait for: it backs off instead")
                    .isEmpty();
            assertThat(aio.prepared()).isZero();
            assertThat(aio.inFlight()).isZero();

            calls.submit = ContextCalls.KERNEL::ioSubmit;
            MemorySegment[] buffers = prepareReads(aio, 8, 0);
            assertThat(aio.submit()).as("every slot was given back").isEqualTo(8);
            assertEachReadOnce(drain(aio, new Deliveries()), buffers, 0);
        }
    }

    @Test
    void shouldNameTheRequestAfterThoseAcceptedWhenTheKernelTakesPartAndThenNoMore() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext aio = calls.open(8)) {
            AtomicInteger accepted = new AtomicInteger();
            calls.submit = (errno, ctx, nr, iocbpp) -> accepted.getAndIncrement() == 0
                    ? ContextCalls.KERNEL.ioSubmit(errno, ctx, 2, iocbpp) : 0; // 0: took none, as a full ring
            MemorySegment[] buffers = prepareReads(aio, 4, 20);

            SubmitException e = catchThrowableOfType(SubmitException.class, aio::submit);

            assertThat(e.accepted()).isEqualTo(2);
            assertThat(e.failedTag()).isEqualTo(22);
            assertThat(e.unsubmittedTags()).containsExactly(23);
            Deliveries done = drain(aio, new Deliveries());
            assertThat(done.byTag).containsOnlyKeys(20L, 21L);
            assertEachReadOnce(done, new MemorySegment[] {buffers[0], buffers[1]}, 20);
        }
    }
}
