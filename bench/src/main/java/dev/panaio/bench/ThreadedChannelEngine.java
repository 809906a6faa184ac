package dev.panaio.bench;

import com.sun.nio.file.ExtendedOpenOption;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code qd} threads sharing one {@link FileChannel}, each doing blocking
 * positional reads (or writes) into its own aligned direct buffer: the way
 * Java code gets concurrency out of a FileChannel. A subclass says which
 * channel, and on which kind of thread.
 *
 * <p>For wal each thread writes a record and makes it durable before counting
 * it: with {@code force(false)} (fdatasync) after each write, or, for a group
 * commit engine, through a {@link GroupCommit} that lets one force serve every
 * record written before it began.
 *
 * <p>The time each thread spends in the call is the caller's stall here: a
 * blocking call lasts the whole request, so the submit-stall figures are the
 * calls' durations (recorded in a histogram of their own, so that the
 * harness's work per request matches {@link AsyncChannelEngine}'s).
 */
public abstract class ThreadedChannelEngine implements Engine {
    private final String name;
    private final boolean groupCommit;

    protected ThreadedChannelEngine(String name) {
        this(name, false);
    }

    /** With {@code groupCommit}, an engine for wal only, whose threads share one force per batch. */
    protected ThreadedChannelEngine(String name, boolean groupCommit) {
        this.name = name;
        this.groupCommit = groupCommit;
    }

    @Override
    public boolean supports(Workload workload) {
        return groupCommit ? workload == Workload.WAL : true;
    }

    @Override
    public final String name() {
        return name;
    }

    /** Opens the channel every thread uses. */
    protected abstract FileChannel open(Path file, Set<OpenOption> options) throws IOException;

    /** Where the worker threads come from. */
    protected abstract Thread.Builder threads();

    @Override
    public EngineResult run(RunSpec spec) throws EngineException, InterruptedException {
        Set<OpenOption> options = new LinkedHashSet<>();
        options.add(spec.reads() ? StandardOpenOption.READ : StandardOpenOption.WRITE);
        if (spec.direct()) {
            options.add(ExtendedOpenOption.DIRECT);
        }
        MeasuredWindow window = new MeasuredWindow();
        List<LatencyRecorder> recorders = new ArrayList<>();
        List<LatencyRecorder> stalls = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        MeasuredWindow.Timing timing;
        try (FileChannel channel = open(spec.file(), options)) {
            GroupCommit commit = groupCommit ? new GroupCommit(channel) : null;
            for (int i = 0; i < spec.qd(); i++) {
                LatencyRecorder recorder = window.completions();
                recorders.add(recorder);
                LatencyRecorder submitStalls = window.stalls();
                stalls.add(submitStalls);
                OffsetStream offsets = spec.offsets(i);
                Thread worker = threads().name(name + "-", i).unstarted(() -> work(channel, commit, spec, offsets,
                        recorder, submitStalls, window));
                worker.setUncaughtExceptionHandler(window.failureHandler());
                workers.add(worker);
            }
            workers.forEach(Thread::start);
            timing = window.run(name, spec);
            for (Thread worker : workers) {
                worker.join();
            }
        } catch (IOException e) {
            window.fail(e);
            timing = null;
        }
        window.rethrow();
        return EngineResult.of(name, timing, recorders).withSubmitStalls(stalls);
    }

    private static void work(FileChannel channel, GroupCommit commit, RunSpec spec, OffsetStream offsets,
                             LatencyRecorder recorder, LatencyRecorder submitStalls, MeasuredWindow window) {
        ByteBuffer buffer = AlignedBuffers.direct(spec.bs(), spec.bufferAlignment(), !spec.reads());
        boolean reads = spec.reads();
        boolean durable = spec.workload() == Workload.WAL;
        try {
            while (!window.stopped()) {
                long position = offsets.next();
                buffer.clear();
                long start = System.nanoTime();
                int n = reads ? channel.read(buffer, position) : channel.write(buffer, position);
                if (n != spec.bs()) {
                    throw new IOException(spec.file() + ": a request at " + position + " moved " + n + " of "
                            + spec.bs() + " bytes");
                }
                if (durable) {
                    if (commit != null) {
                        commit.awaitDurable();
                    } else {
                        channel.force(false);
                    }
                }
                long end = System.nanoTime();
                recorder.record(end - start);
                // The same figure, recorded apart as an asynchronous engine records its calls': each engine's
                // harness work per request is the same, two clock reads and two histogram records.
                submitStalls.record(end - start);
            }
        } catch (IOException e) {
            window.fail(e);
        }
    }
}
