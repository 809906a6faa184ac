package dev.panaio.bench;

import com.sun.nio.file.ExtendedOpenOption;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * {@code qd} requests in flight on one {@link AsynchronousFileChannel}: each
 * request slot's {@link CompletionHandler} records the completion and issues
 * the slot's next request. A subclass says which channel.
 *
 * <p>For wal the channel is opened with {@link StandardOpenOption#DSYNC}
 * (O_DSYNC), so a write completes only once durable: neither the JDK's
 * AsynchronousFileChannel nor panaio's takes a per-request durability flag.
 */
public abstract class AsyncChannelEngine implements Engine {
    private final String name;

    protected AsyncChannelEngine(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public boolean supports(Workload workload) {
        return true;
    }

    /** Opens the channel. */
    protected abstract AsynchronousFileChannel open(Path file, Set<OpenOption> options) throws IOException;

    @Override
    public EngineResult run(RunSpec spec) throws EngineException, InterruptedException {
        Set<OpenOption> options = new LinkedHashSet<>();
        options.add(spec.reads() ? StandardOpenOption.READ : StandardOpenOption.WRITE);
        if (spec.direct()) {
            options.add(ExtendedOpenOption.DIRECT);
        }
        if (spec.workload() == Workload.WAL) {
            options.add(StandardOpenOption.DSYNC);
        }
        MeasuredWindow window = new MeasuredWindow();
        CountDownLatch idle = new CountDownLatch(spec.qd());
        List<Slot> slots = new ArrayList<>();
        StallsByThread stalls = new StallsByThread(window);
        MeasuredWindow.Timing timing;
        StallTrace trace = spec.stallTrace() ? new StallTrace() : null;
        try (AsynchronousFileChannel channel = open(spec.file(), options)) {
            for (int i = 0; i < spec.qd(); i++) {
                slots.add(new Slot(channel, spec, spec.offsets(i), window, stalls, idle, trace));
            }
            for (Slot slot : slots) {
                slot.issue(System.nanoTime());
            }
            timing = window.run(name, spec);
            idle.await();
        } catch (IOException e) {
            window.fail(e);
            timing = null;
        }
        // Every slot has stopped issuing: no thread reads its clocks any more.
        StallTrace.Summary traced = null;
        if (trace != null) {
            traced = trace.summary(slots.stream().map(s -> s.traced).toList());
            trace.close();
        }
        window.rethrow();
        return EngineResult.of(name, timing, slots.stream().map(s -> s.recorder).toList())
                .withSubmitStalls(stalls.all)
                .withStallTrace(traced);
    }

    /**
     * A recorder of the submitting calls' time for each thread that makes
     * them. A slot's next call is made by whichever thread ran its last
     * completion, and a caller records its call's time after the call
     * returns, by which time another thread may have completed the request,
     * issued the next and be recording its own: a recorder per slot would be
     * written by two threads at once.
     */
    private static final class StallsByThread {
        final List<LatencyRecorder> all = new CopyOnWriteArrayList<>();
        private final ThreadLocal<LatencyRecorder> mine;

        StallsByThread(MeasuredWindow window) {
            mine = ThreadLocal.withInitial(() -> {
                LatencyRecorder recorder = window.stalls();
                all.add(recorder);
                return recorder;
            });
        }

        LatencyRecorder ofThisThread() {
            return mine.get();
        }
    }

    /** One request in flight at a time; its completions are serialised by the channel. */
    private static final class Slot implements CompletionHandler<Integer, Void> {
        private final AsynchronousFileChannel channel;
        private final RunSpec spec;
        private final OffsetStream offsets;
        private final MeasuredWindow window;
        private final CountDownLatch idle;
        private final ByteBuffer buffer;
        final LatencyRecorder recorder;
        /** How long the read or write call itself kept its thread, by thread. */
        private final StallsByThread stalls;
        /** Where the measured calls' time went, under --stall-trace. */
        final StallTrace.Calls traced = new StallTrace.Calls();
        private final StallTrace trace;
        private long position;
        private long start;

        Slot(AsynchronousFileChannel channel, RunSpec spec, OffsetStream offsets, MeasuredWindow window,
             StallsByThread stalls, CountDownLatch idle, StallTrace trace) {
            this.trace = trace;
            this.channel = channel;
            this.spec = spec;
            this.offsets = offsets;
            this.window = window;
            this.recorder = window.completions();
            this.stalls = stalls;
            this.idle = idle;
            this.buffer = AlignedBuffers.direct(spec.bs(), spec.bufferAlignment(), !spec.reads());
        }

        /**
         * Issues the slot's next request. {@code now}, the time its previous
         * completion was taken (or the run's start), is when this request
         * starts: each request then costs the harness two clock reads and two
         * histogram records, as a {@link ThreadedChannelEngine} thread's does,
         * and its latency and submit stall include the few nanoseconds of
         * bookkeeping between the two (recording, the next offset).
         */
        void issue(long now) {
            if (window.stopped()) {
                idle.countDown();
                return;
            }
            position = offsets.next();
            buffer.clear();
            StallTrace.Probe probe = null;
            long cpu = 0;
            long runDelay = 0;
            long slices = 0;
            // The trace alone, in the window alone: without --stall-trace, no branch on the window's phase here.
            if (trace != null && window.measuring()) {
                // Read into locals: a handler run inside the call (inline completion) issues and reads again.
                probe = trace.probe();
                if (probe.sampleBefore()) {
                    cpu = probe.cpuNanos;
                    runDelay = probe.runDelayNanos;
                    slices = probe.slices;
                } else {
                    probe = null;
                    traced.untraced++;
                }
            }
            // The probe's own calls stay out of the timed call: under --stall-trace, a clock read of its own.
            long callStart = probe != null ? System.nanoTime() : now;
            start = callStart;
            try {
                if (spec.reads()) {
                    channel.read(buffer, position, null, this);
                } else {
                    channel.write(buffer, position, null, this);
                }
            } catch (RuntimeException e) {
                failed(e, null);
                return;
            }
            // Includes the completion when the channel completed the request inside the call.
            long end = System.nanoTime();
            stalls.ofThisThread().record(end - callStart);
            if (probe != null) {
                if (probe.sampleAfter()) {
                    traced.probeNanos += System.nanoTime() - end;
                    traced.probeCount++;
                    traced.add(callStart, end, probe.runDelayNanos - runDelay,
                            Math.max(0, probe.cpuNanos - cpu - probe.cpuBiasNanos), probe.slices - slices);
                } else {
                    traced.untraced++;
                }
            }
        }

        @Override
        public void completed(Integer n, Void attachment) {
            long end = System.nanoTime();
            if (n != spec.bs()) {
                failed(new IOException(spec.file() + ": a request at " + position + " moved " + n + " of "
                        + spec.bs() + " bytes"), null);
                return;
            }
            if (recorder.record(end - start)) {
                end = System.nanoTime(); // a new epoch's reset: not the next request's time
            }
            issue(end);
        }

        @Override
        public void failed(Throwable t, Void attachment) {
            window.fail(t);
            idle.countDown();
        }
    }
}
