package dev.panaio.bench;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioArena;
import dev.panaio.AioContext;
import dev.panaio.AioFile;
import dev.panaio.CompletionConsumer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * panaio's low-level API on one thread: {@code qd} requests in flight; every
 * free slot is prepared, then one {@code submit()} sends the batch (or batches
 * of at most {@code --batch} requests each); completions
 * are reaped from the ring, and only when it is empty does the thread block in
 * {@code await(1)} (io_getevents). The loop allocates nothing.
 */
public final class PanaioEngine implements Engine {
    @Override
    public String name() {
        return "panaio";
    }

    @Override
    public EngineResult run(RunSpec spec) throws EngineException, InterruptedException {
        MeasuredWindow window = new MeasuredWindow();
        LatencyRecorder recorder = new LatencyRecorder();
        LatencyRecorder submitStalls = new LatencyRecorder();
        Thread worker = Thread.ofPlatform().name("panaio-bench").unstarted(() -> {
            try {
                loop(spec, window, recorder, submitStalls);
            } catch (IOException e) {
                window.fail(e);
            }
        });
        worker.setUncaughtExceptionHandler(window.failureHandler());
        worker.start();
        MeasuredWindow.Timing timing = window.run(name(), spec);
        worker.join();
        window.rethrow();
        return EngineResult.of(name(), timing, List.of(recorder)).withSubmitStalls(List.of(submitStalls));
    }

    private static void loop(RunSpec spec, MeasuredWindow window, LatencyRecorder recorder,
                             LatencyRecorder submitStalls) throws IOException {
        List<OpenOption> options = new ArrayList<>();
        options.add(spec.reads() ? StandardOpenOption.READ : StandardOpenOption.WRITE);
        if (spec.direct()) {
            options.add(ExtendedOpenOption.DIRECT);
        }
        int qd = spec.qd();
        try (AioContext aio = AioContext.open(qd);
             AioFile file = AioFile.open(spec.file(), options.toArray(OpenOption[]::new));
             AioArena arena = AioArena.open()) { // read and written in place; another arena would be copied
            MemorySegment all = arena.allocate((long) spec.bs() * qd, spec.bufferAlignment());
            if (!spec.reads()) {
                for (long i = 0; i < all.byteSize(); i++) {
                    all.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, RunSpec.fillByte(i));
                }
            }
            Slots slots = new Slots(spec, window, recorder, all);
            while (true) {
                if (!window.stopped()) {
                    // Every free slot goes out now, in batches of at most spec.batch() per io_submit.
                    while (slots.prepareFree(aio, file, spec.batch()) > 0) {
                        long start = System.nanoTime();
                        slots.stampBatch(start);
                        aio.submit();
                        if (window.measuring()) {
                            submitStalls.record(System.nanoTime() - start); // this thread calls io_submit itself
                        }
                    }
                } else if (aio.inFlight() == 0) {
                    break;
                }
                if (aio.reap(slots) == 0 && aio.inFlight() > 0) {
                    aio.await(1, slots);
                }
                slots.throwIfFailed();
            }
        }
    }

    /** The request slots: buffers, offsets and submit times, indexed by the tag. */
    private static final class Slots implements CompletionConsumer {
        private final RunSpec spec;
        private final MeasuredWindow window;
        private final LatencyRecorder recorder;
        private final MemorySegment[] buffers;
        private final OffsetStream[] offsets;
        private final long[] submitted;
        private final int[] free;
        private int freeCount;
        private final int[] batch;
        private int batchCount;
        private final long expected;
        private long badResult;
        private int badTag = -1;

        Slots(RunSpec spec, MeasuredWindow window, LatencyRecorder recorder, MemorySegment all) {
            this.spec = spec;
            this.window = window;
            this.recorder = recorder;
            int qd = spec.qd();
            this.buffers = new MemorySegment[qd];
            this.offsets = new OffsetStream[qd];
            this.submitted = new long[qd];
            this.free = new int[qd];
            this.batch = new int[qd];
            for (int i = 0; i < qd; i++) {
                buffers[i] = all.asSlice((long) i * spec.bs(), spec.bs());
                offsets[i] = spec.offsets(i);
                free[i] = i;
            }
            this.freeCount = qd;
            this.expected = spec.bs();
        }

        /** Prepares up to {@code max} requests on free slots; returns how many. */
        int prepareFree(AioContext aio, AioFile file, int max) {
            batchCount = 0;
            boolean reads = spec.reads();
            while (freeCount > 0 && batchCount < max) {
                int slot = free[--freeCount];
                if (reads) {
                    aio.prepareRead(file, buffers[slot], offsets[slot].next(), slot);
                } else {
                    aio.prepareWrite(file, buffers[slot], offsets[slot].next(), slot);
                }
                batch[batchCount++] = slot;
            }
            return batchCount;
        }

        void stampBatch(long now) {
            for (int i = 0; i < batchCount; i++) {
                submitted[batch[i]] = now;
            }
        }

        @Override
        public void onCompletion(long tag, long result) {
            long now = System.nanoTime();
            int slot = (int) tag;
            if (result != expected && badTag < 0) {
                badTag = slot;
                badResult = result;
            }
            if (window.measuring()) {
                recorder.record(now - submitted[slot]);
            }
            free[freeCount++] = slot;
        }

        void throwIfFailed() throws IOException {
            if (badTag >= 0) {
                throw new IOException(String.format(java.util.Locale.ROOT,
                        "a request on %s completed with %d instead of %d bytes%s", spec.file(), badResult, expected,
                        badResult < 0 ? " (errno " + -badResult + ")" : ""));
            }
        }
    }
}
