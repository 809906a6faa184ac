package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Property-based: random sequences of valid and invalid calls on one
 * {@link AioContext} and two files (one buffered, one direct), checked
 * against a model of the files' bytes:
 * <ul>
 *   <li>an invalid call throws its documented exception type and leaves
 *       {@code prepared()}, {@code inFlight()} and the completions as they
 *       were;</li>
 *   <li>a valid call never throws;</li>
 *   <li>every prepared request completes exactly once, with its tag, and
 *       the result the kernel should give;</li>
 *   <li>data written reads back intact, and the files end as the model.</li>
 * </ul>
 * A request never overlaps a write still in flight (the order of the two
 * would be undefined): the sequence drains the context first.
 *
 * <p>Each try is one seed; a failing sequence is shrunk (chunks of calls
 * removed while it still fails the same way) and reported with its seed.
 * {@code -Dpanaio.property.seed=S -Dpanaio.property.tries=N} replays or
 * widens a run. The generator and shrinker are this file's own, on plain
 * JUnit.
 */
class AioContextPropertyTest {
    private static final int FILE_SIZE = 64 * 1024;
    private static final int UNIT = 512;
    /** The context's capacity: requests prepared, in flight and not yet reaped, at most. */
    private static final int MAX_OUTSTANDING = 32;
    private static final long BASE_SEED = Long.getLong("panaio.property.seed", System.nanoTime());
    private static final int TRIES = Integer.getInteger("panaio.property.tries", 60);
    private static final int SHRINK_RUNS = 300;

    @TempDir
    static Path dir;

    // -------------------------------------------------------------- the steps

    /** One call in a generated sequence. */
    sealed interface Step permits Transfer, Sync, Submit, Reap, Await, Invalid {
    }

    enum BufferKind { SEGMENT, BYTE_BUFFER, VECTORED }

    /** A read or write of {@code length} bytes at {@code position} of file 0 (buffered) or 1 (direct). */
    record Transfer(boolean write, int file, long position, int length, BufferKind kind, byte fill) implements Step {
    }

    record Sync(int file, boolean dataOnly) implements Step {
    }

    record Submit() implements Step {
    }

    record Reap(int max) implements Step {
    }

    /** An await for {@code min} (of those in flight, 1 if none: then it is invalid) with a short timeout. */
    record Await(int min, int timeoutMillis) implements Step {
    }

    enum Mistake {
        HEAP_SEGMENT, READ_ONLY_DESTINATION, HEAP_BYTE_BUFFER, NEGATIVE_POSITION, OVERFLOWING_POSITION,
        MISALIGNED_ADDRESS, MISALIGNED_POSITION, MISALIGNED_LENGTH, CLOSED_ARENA, WRITE_TO_READ_ONLY_FILE,
        CLOSED_FILE, FSYNC_WITH_FLAGS, POLL_WITHOUT_EVENTS, NO_VECTORS, REAP_ZERO, NEGATIVE_TIMEOUT,
        AWAIT_MORE_THAN_IN_FLIGHT
    }

    record Invalid(Mistake mistake) implements Step {
    }

    static List<Step> generate(SplittableRandom random) {
        int n = 1 + random.nextInt(60);
        List<Step> steps = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int roll = random.nextInt(26);
            if (roll < 10) {
                boolean write = random.nextBoolean();
                int file = random.nextInt(2);
                // Direct I/O in whole units; buffered I/O at any byte; always within the file.
                int length = file == 1 ? (1 + random.nextInt(16)) * UNIT : 1 + random.nextInt(8192);
                long position = random.nextInt(FILE_SIZE - length + 1);
                if (file == 1) {
                    position = position / UNIT * UNIT;
                }
                steps.add(new Transfer(write, file, position, length,
                        BufferKind.values()[random.nextInt(BufferKind.values().length)], (byte) random.nextInt()));
            } else if (roll < 12) {
                steps.add(new Sync(random.nextInt(2), random.nextBoolean()));
            } else if (roll < 16) {
                steps.add(new Submit());
            } else if (roll < 19) {
                steps.add(new Reap(1 + random.nextInt(8)));
            } else if (roll < 22) {
                steps.add(new Await(1 + random.nextInt(8), random.nextInt(6)));
            } else {
                steps.add(new Invalid(Mistake.values()[random.nextInt(Mistake.values().length)]));
            }
        }
        return steps;
    }

    // ---------------------------------------------------------- the property

    static LongStream seeds() {
        return LongStream.range(0, TRIES).map(i -> BASE_SEED + i);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shouldKeepTheContextConsistentAndTheDataIntactWhateverTheCalls(long seed) {
        List<Step> steps = generate(new SplittableRandom(seed));
        Throwable failure = run(steps);
        if (failure != null) {
            List<Step> smallest = shrink(steps, failure, AioContextPropertyTest::run);
            Throwable smallestFailure = run(smallest);
            AssertionError report = new AssertionError(String.format(
                    "seed %d fails (-Dpanaio.property.seed=%d -Dpanaio.property.tries=1 replays it); the smallest "
                            + "failing sequence found has %d of the %d calls:%n  %s%nand fails with: %s",
                    seed, seed, smallest.size(), steps.size(),
                    smallest.stream().map(Step::toString).collect(Collectors.joining("\n  ")), smallestFailure),
                    smallestFailure);
            report.addSuppressed(failure);
            throw report;
        }
    }

    /** Runs the calls on a fresh context and files; the first failure, or null. */
    static Throwable run(List<Step> steps) {
        try (Run run = new Run()) {
            for (Step step : steps) {
                run.perform(step);
            }
            run.finish();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /**
     * Removes chunks of calls, halving the chunk size, as long as what is
     * left still fails with the same type of failure; at most
     * {@value #SHRINK_RUNS} runs.
     */
    static List<Step> shrink(List<Step> steps, Throwable failure, Function<List<Step>, Throwable> runner) {
        List<Step> current = steps;
        int runs = 0;
        for (int chunk = Math.max(1, current.size() / 2); chunk >= 1 && runs < SHRINK_RUNS; chunk /= 2) {
            for (int from = 0; from + chunk <= current.size() && runs < SHRINK_RUNS; ) {
                List<Step> candidate = new ArrayList<>(current.subList(0, from));
                candidate.addAll(current.subList(from + chunk, current.size()));
                Throwable t = runner.apply(candidate);
                runs++;
                if (t != null && t.getClass() == failure.getClass()) {
                    current = candidate; // the removed calls did not matter: try the same place again
                } else {
                    from += chunk;
                }
            }
        }
        return current;
    }

    /** One try: a fresh context and files, the model of their bytes, and what is in flight. */
    private static final class Run implements AutoCloseable {
        final Arena arena = Arena.ofShared();
        final AioContext aio;
        final AioFile[] files;
        final AioFile readOnly;
        final AioFile closed;
        final byte[][] model = new byte[2][];
        /** Requests prepared or in flight, by tag. */
        final Map<Long, Pending> pending = new HashMap<>();
        final List<Pending> prepared = new ArrayList<>();
        long nextTag;
        int completions;

        record Pending(long tag, Transfer transfer, MemorySegment buffer, byte[] data, boolean sync) {
        }

        Run() throws IOException {
            for (int f = 0; f < 2; f++) {
                model[f] = new byte[FILE_SIZE];
                for (int i = 0; i < FILE_SIZE; i++) {
                    model[f][i] = (byte) (i * 31 + f);
                }
            }
            Files.write(dir.resolve("buffered"), model[0]);
            Files.write(dir.resolve("direct"), model[1]);
            aio = AioContext.open(MAX_OUTSTANDING);
            files = new AioFile[] {AioFile.open(dir.resolve("buffered"), READ, WRITE),
                    AioFile.open(dir.resolve("direct"), READ, WRITE, ExtendedOpenOption.DIRECT)};
            readOnly = AioFile.open(dir.resolve("buffered"), READ);
            closed = AioFile.open(dir.resolve("buffered"), READ);
            closed.close();
        }

        void perform(Step step) throws Exception {
            switch (step) {
                case Transfer t -> transfer(t);
                case Sync s -> {
                    makeRoom();
                    long tag = nextTag++;
                    if (s.dataOnly) {
                        aio.prepareFdatasync(files[s.file], tag);
                    } else {
                        aio.prepareFsync(files[s.file], tag);
                    }
                    track(new Pending(tag, null, null, null, true));
                }
                case Submit ignored -> submit();
                case Reap r -> aio.reap(r.max, this::completed);
                case Await a -> {
                    if (aio.inFlight() == 0) {
                        expectRejected(IllegalArgumentException.class, "requests in flight",
                                () -> aio.await(1, a.timeoutMillis, TimeUnit.MILLISECONDS, this::completed));
                    } else {
                        int min = Math.min(a.min, aio.inFlight());
                        int before = completions;
                        int delivered = aio.await(min, a.timeoutMillis, TimeUnit.MILLISECONDS, this::completed);
                        assertThat(delivered).as("what await says it delivered").isEqualTo(completions - before);
                    }
                }
                case Invalid i -> invalid(i.mistake);
            }
        }

        private void transfer(Transfer t) throws Exception {
            // A request overlapping a write not yet complete (or a write overlapping anything) waits for it.
            for (Pending p : pending.values()) {
                if (p.transfer != null && (t.write || p.transfer.write) && overlap(p.transfer, t)) {
                    drain();
                    break;
                }
            }
            makeRoom();
            MemorySegment buffer = arena.allocate(t.length, 4096);
            byte[] data = null;
            if (t.write) {
                data = new byte[t.length];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (byte) (t.fill + i * 7);
                }
                MemorySegment.copy(data, 0, buffer, ValueLayout.JAVA_BYTE, 0, data.length);
            }
            long tag = nextTag++;
            AioFile file = files[t.file];
            switch (t.kind) {
                case SEGMENT -> {
                    if (t.write) {
                        aio.prepareWrite(file, buffer, t.position, tag);
                    } else {
                        aio.prepareRead(file, buffer, t.position, tag);
                    }
                }
                case BYTE_BUFFER -> {
                    ByteBuffer view = buffer.asByteBuffer();
                    if (t.write) {
                        aio.prepareWrite(file, view, t.position, tag);
                    } else {
                        aio.prepareRead(file, view, t.position, tag);
                    }
                }
                case VECTORED -> {
                    int first = t.file == 1 ? (t.length / UNIT / 2) * UNIT : t.length / 2;
                    MemorySegment[] parts = first == 0
                            ? new MemorySegment[] {buffer}
                            : new MemorySegment[] {buffer.asSlice(0, first), buffer.asSlice(first)};
                    if (t.write) {
                        aio.prepareWriteVectored(file, parts, t.position, tag, RequestOptions.NONE);
                    } else {
                        aio.prepareReadVectored(file, parts, t.position, tag, RequestOptions.NONE);
                    }
                }
            }
            track(new Pending(tag, t, buffer, data, false));
        }

        private static boolean overlap(Transfer a, Transfer b) {
            return a.file == b.file && a.position < b.position + b.length && b.position < a.position + a.length;
        }

        private void track(Pending p) {
            pending.put(p.tag, p);
            prepared.add(p);
            assertThat(aio.prepared()).as("prepared()").isEqualTo(prepared.size());
        }

        private void makeRoom() throws Exception {
            if (aio.prepared() + aio.inFlight() >= MAX_OUTSTANDING) {
                drain();
            }
        }

        private void submit() throws SubmitException {
            int n = prepared.size();
            assertThat(aio.submit()).isEqualTo(n);
            prepared.clear();
            assertThat(aio.prepared()).isZero();
        }

        private void drain() throws Exception {
            submit();
            while (aio.inFlight() > 0) {
                assertThat(aio.await(1, 10, TimeUnit.SECONDS, this::completed)).as("completions within 10 s")
                        .isPositive();
            }
            assertThat(pending).as("requests that never completed").isEmpty();
        }

        private void completed(long tag, long result) {
            Pending p = pending.remove(tag);
            assertThat(p).as("completion of tag %d: one that is in flight, delivered once", tag).isNotNull();
            completions++;
            if (p.sync) {
                assertThat(result).as("fsync result").isZero();
                return;
            }
            Transfer t = p.transfer;
            assertThat(result).as("result of %s", t).isEqualTo(t.length);
            if (t.write) {
                System.arraycopy(p.data, 0, model[t.file], (int) t.position, t.length);
            } else {
                byte[] expected = Arrays.copyOfRange(model[t.file], (int) t.position, (int) t.position + t.length);
                assertThat(p.buffer.toArray(ValueLayout.JAVA_BYTE)).as("bytes read by %s", t).isEqualTo(expected);
            }
        }

        /** Makes the mistake and checks the type of the refusal and that nothing changed. */
        private void invalid(Mistake mistake) throws Exception {
            AioFile buffered = files[0];
            AioFile direct = files[1];
            MemorySegment aligned = arena.allocate(2 * 4096, 4096);
            long tag = -1;
            switch (mistake) {
                case HEAP_SEGMENT -> expectRejected(IllegalArgumentException.class, "native memory",
                        () -> aio.prepareRead(buffered, MemorySegment.ofArray(new byte[UNIT]), 0, tag));
                case READ_ONLY_DESTINATION -> expectRejected(IllegalArgumentException.class, "read-only",
                        () -> aio.prepareRead(buffered, aligned.asReadOnly(), 0, tag));
                case HEAP_BYTE_BUFFER -> expectRejected(IllegalArgumentException.class, "direct ByteBuffer",
                        () -> aio.prepareWrite(buffered, ByteBuffer.allocate(UNIT), 0, tag));
                case NEGATIVE_POSITION -> expectRejected(IllegalArgumentException.class, "negative",
                        () -> aio.prepareRead(buffered, aligned, -UNIT, tag));
                case OVERFLOWING_POSITION -> expectRejected(IllegalArgumentException.class, "overflows",
                        () -> aio.prepareWrite(buffered, aligned, Long.MAX_VALUE - 1, tag));
                case MISALIGNED_ADDRESS -> expectRejected(MisalignedIoException.class, "buffer address",
                        () -> aio.prepareRead(direct, aligned.asSlice(8, 4096), 0, tag));
                case MISALIGNED_POSITION -> expectRejected(MisalignedIoException.class, "file position",
                        () -> aio.prepareRead(direct, aligned.asSlice(0, 4096), 100, tag));
                case MISALIGNED_LENGTH -> expectRejected(MisalignedIoException.class, "length",
                        () -> aio.prepareWrite(direct, aligned.asSlice(0, 1000), 0, tag));
                case CLOSED_ARENA -> {
                    MemorySegment dead;
                    try (Arena gone = Arena.ofConfined()) {
                        dead = gone.allocate(UNIT, 4096);
                    }
                    MemorySegment freed = dead;
                    expectRejected(IllegalStateException.class, "closed",
                            () -> aio.prepareRead(buffered, freed, 0, tag));
                }
                case WRITE_TO_READ_ONLY_FILE -> expectRejected(IllegalArgumentException.class, "not opened for writing",
                        () -> aio.prepareWrite(readOnly, aligned, 0, tag));
                case CLOSED_FILE -> expectRejected(IllegalStateException.class, "closed",
                        () -> aio.prepareFsync(closed, tag));
                case FSYNC_WITH_FLAGS -> expectRejected(IllegalArgumentException.class, "no rw flags",
                        () -> aio.prepareFsync(buffered, tag, RequestOptions.NONE.withFlags(RwFlag.DSYNC)));
                case POLL_WITHOUT_EVENTS -> expectRejected(IllegalArgumentException.class, "mask",
                        () -> aio.preparePoll(buffered, 0, tag));
                case NO_VECTORS -> expectRejected(IllegalArgumentException.class, "UIO_MAXIOV",
                        () -> aio.prepareReadVectored(buffered, new MemorySegment[0], 0, tag, RequestOptions.NONE));
                case REAP_ZERO -> expectRejected(IllegalArgumentException.class, "positive",
                        () -> aio.reap(0, this::completed));
                case NEGATIVE_TIMEOUT -> expectRejected(IllegalArgumentException.class, "negative",
                        () -> aio.await(1, -1, TimeUnit.MILLISECONDS, this::completed));
                case AWAIT_MORE_THAN_IN_FLIGHT -> expectRejected(IllegalArgumentException.class, "in flight",
                        () -> aio.await(aio.inFlight() + 1, 1, TimeUnit.MILLISECONDS, this::completed));
            }
        }

        /** A refused call, which may declare the checked {@link MisalignedIoException}. */
        @FunctionalInterface
        private interface Call {
            void run() throws Exception;
        }

        private void expectRejected(Class<? extends Throwable> type, String fragment, Call call) {
            int preparedBefore = aio.prepared();
            int inFlightBefore = aio.inFlight();
            int completionsBefore = completions;
            Throwable thrown = catchThrowable(call::run);
            assertThat(thrown).as("the refusal").isInstanceOf(type).hasMessageContaining(fragment);
            assertThat(aio.prepared()).as("prepared() after a refused call").isEqualTo(preparedBefore);
            assertThat(aio.inFlight()).as("inFlight() after a refused call").isEqualTo(inFlightBefore);
            assertThat(completions).as("completions delivered by a refused call").isEqualTo(completionsBefore);
        }

        void finish() throws Exception {
            drain();
            for (AioFile file : files) {
                file.close();
            }
            assertThat(Files.readAllBytes(dir.resolve("buffered"))).as("the buffered file").isEqualTo(model[0]);
            assertThat(Files.readAllBytes(dir.resolve("direct"))).as("the direct file").isEqualTo(model[1]);
        }

        @Override
        public void close() throws IOException {
            aio.close(); // waits for anything still in flight before the buffers' arena goes
            for (AioFile file : files) {
                file.close();
            }
            readOnly.close();
            arena.close();
        }
    }

    /** The checker notices bytes that differ from the model. */
    @Test
    void shouldNoticeDataThatDoesNotMatchTheModel() throws Exception {
        try (Run run = new Run()) {
            run.model[0][10] ^= 1;
            run.perform(new Transfer(false, 0, 0, 100, BufferKind.SEGMENT, (byte) 0));
            assertThatThrownBy(run::drain).isInstanceOf(AssertionError.class).hasMessageContaining("bytes read");
        }
    }

    /** The shrinker keeps only the calls a failure needs. */
    @Test
    void shouldShrinkAFailingSequenceToTheCallsThatMatter() {
        List<Step> steps = new ArrayList<>(generate(new SplittableRandom(1)));
        steps.removeIf(step -> step instanceof Sync || step instanceof Submit);
        steps.add(steps.size() / 2, new Sync(0, false));
        steps.add(new Reap(3));
        steps.add(new Submit());
        // A stand-in property: fails whenever a Sync comes before a Submit.
        Function<List<Step>, Throwable> runner = candidate -> {
            boolean synced = false;
            for (Step step : candidate) {
                if (step instanceof Sync) {
                    synced = true;
                } else if (step instanceof Submit && synced) {
                    return new IllegalStateException("sync then submit");
                }
            }
            return null;
        };
        List<Step> smallest = shrink(steps, runner.apply(steps), runner);
        assertThat(smallest).containsExactly(new Sync(0, false), new Submit());
    }
}
