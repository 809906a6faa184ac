package dev.panaio.bench;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioArena;
import dev.panaio.AioContext;
import dev.panaio.AioFile;
import dev.panaio.CompletionConsumer;
import dev.panaio.RequestOptions;
import dev.panaio.RwFlag;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * panaio's low-level API on one thread: {@code qd} requests in flight; every
 * free slot goes out, in batches of at most {@code --batch} requests per
 * {@code submit()} (2 by default, below the block queue's plug); completions
 * are reaped from the ring, and only when it is empty does the thread block in
 * {@code await(1)} (io_getevents). The loop allocates nothing.
 *
 * <p>For wal, a record counts only once it is durable. {@code panaio} writes
 * each record with {@code RWF_DSYNC}: its completion is the durability. {@code
 * panaio-group} writes records without it and commits them in groups: whenever
 * no fdatasync is in flight and some writes have completed, one {@code
 * IOCB_CMD_FDSYNC} goes out, and its completion makes durable exactly the
 * records whose writes had completed before it was submitted. A record's slot
 * is reused only once the record is durable, so at most {@code qd} records are
 * in flight or waiting, as with {@code qd} writers each waiting for its commit.
 */
public final class PanaioEngine implements Engine {
    private final boolean groupCommit;

    /** {@code panaio}: RWF_DSYNC on each wal record. */
    PanaioEngine() {
        this(false);
    }

    private PanaioEngine(boolean groupCommit) {
        this.groupCommit = groupCommit;
    }

    /** {@code panaio-group}: wal only, one fdatasync request per batch of completed writes. */
    static PanaioEngine groupCommit() {
        return new PanaioEngine(true);
    }

    @Override
    public String name() {
        return groupCommit ? "panaio-group" : "panaio";
    }

    @Override
    public boolean supports(Workload workload) {
        return groupCommit ? workload == Workload.WAL : true;
    }

    @Override
    public boolean isPeer() {
        return false;
    }

    @Override
    public EngineResult run(RunSpec spec) throws EngineException, InterruptedException {
        boolean commitGroups = groupCommit && spec.workload() == Workload.WAL;
        return MeasuredWindow.runOneWorker(name(), "panaio-bench", spec,
                (window, recorder, submitStalls) -> loop(spec, commitGroups, window, recorder, submitStalls));
    }

    private static void loop(RunSpec spec, boolean groupCommit, MeasuredWindow window, LatencyRecorder recorder,
                             LatencyRecorder submitStalls) throws IOException {
        List<OpenOption> options = new ArrayList<>();
        options.add(spec.reads() ? StandardOpenOption.READ : StandardOpenOption.WRITE);
        if (spec.direct()) {
            options.add(ExtendedOpenOption.DIRECT);
        }
        int qd = spec.qd();
        try (AioContext aio = AioContext.open(groupCommit ? qd + 1 : qd);
             AioFile file = AioFile.open(spec.file(), options.toArray(OpenOption[]::new));
             AioArena arena = AioArena.open()) { // read and written in place; another arena would be copied
            MemorySegment all = arena.allocate((long) spec.bs() * qd, spec.bufferAlignment());
            if (!spec.reads()) {
                for (long i = 0; i < all.byteSize(); i++) {
                    all.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, RunSpec.fillByte(i));
                }
            }
            Slots slots = new Slots(spec, groupCommit, window, recorder, all);
            while (true) {
                if (!window.stopped()) {
                    // Every free slot goes out now, in batches of at most spec.batch() per io_submit.
                    while (slots.prepareFree(aio, file, spec.batch()) > 0) {
                        long start = System.nanoTime();
                        slots.stampBatch(start);
                        aio.submit();
                        submitStalls.record(System.nanoTime() - start); // this thread calls io_submit itself
                    }
                    if (slots.prepareGroupCommit(aio, file)) {
                        long start = System.nanoTime();
                        aio.submit();
                        submitStalls.record(System.nanoTime() - start);
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
        private final boolean groupCommit;
        /** The fdatasync's tag: one past the slots. */
        private final int syncTag;
        private final RequestOptions writeOptions;
        /** Group commit: slots whose writes completed, waiting for the next fdatasync. */
        private final int[] written;
        private int writtenCount;
        /** Group commit: slots the fdatasync in flight makes durable. */
        private final int[] committing;
        private int committingCount;
        private boolean syncInFlight;
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

        Slots(RunSpec spec, boolean groupCommit, MeasuredWindow window, LatencyRecorder recorder,
              MemorySegment all) {
            this.spec = spec;
            this.groupCommit = groupCommit;
            this.syncTag = spec.qd();
            this.writeOptions = spec.workload() == Workload.WAL && !groupCommit
                    ? RequestOptions.NONE.withFlags(RwFlag.DSYNC) : RequestOptions.NONE;
            this.written = new int[spec.qd()];
            this.committing = new int[spec.qd()];
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

        /**
         * Prepares up to {@code max} requests on free slots; returns how many.
         * (Declares IOException: preparing may refuse a misaligned request with a checked exception.)
         */
        int prepareFree(AioContext aio, AioFile file, int max) throws IOException {
            batchCount = 0;
            boolean reads = spec.reads();
            while (freeCount > 0 && batchCount < max) {
                int slot = free[--freeCount];
                if (reads) {
                    aio.prepareRead(file, buffers[slot], offsets[slot].next(), slot);
                } else {
                    aio.prepareWrite(file, buffers[slot], offsets[slot].next(), slot, writeOptions);
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

        /**
         * Group commit: when no fdatasync is in flight and some writes have
         * completed, prepares one for them; returns whether it did.
         */
        boolean prepareGroupCommit(AioContext aio, AioFile file) throws IOException {
            if (!groupCommit || syncInFlight || writtenCount == 0) {
                return false;
            }
            System.arraycopy(written, 0, committing, 0, writtenCount);
            committingCount = writtenCount;
            writtenCount = 0;
            aio.prepareFdatasync(file, syncTag);
            syncInFlight = true;
            return true;
        }

        @Override
        public void onCompletion(long tag, long result) {
            long now = System.nanoTime();
            if (tag == syncTag) {
                if (result != 0 && badTag < 0) {
                    badTag = syncTag;
                    badResult = result;
                }
                // Durable now: the records whose writes completed before this fdatasync was submitted.
                for (int i = 0; i < committingCount; i++) {
                    int slot = committing[i];
                    if (result == 0) {
                        recorder.record(now - submitted[slot]);
                    }
                    free[freeCount++] = slot;
                }
                committingCount = 0;
                syncInFlight = false;
                return;
            }
            int slot = (int) tag;
            if (result != expected && badTag < 0) {
                badTag = slot;
                badResult = result;
            }
            if (groupCommit) {
                written[writtenCount++] = slot;
                return;
            }
            recorder.record(now - submitted[slot]);
            free[freeCount++] = slot;
        }

        void throwIfFailed() throws IOException {
            if (badTag >= 0) {
                throw new IOException(String.format(java.util.Locale.ROOT,
                        "a%s request on %s completed with %d instead of %d%s", badTag == syncTag ? "n fdatasync" : "",
                        spec.file(), badResult, badTag == syncTag ? 0 : expected,
                        badResult < 0 ? " (errno " + -badResult + ")" : " bytes"));
            }
        }
    }
}
