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
 */
public abstract class ThreadedChannelEngine implements Engine {
    private final String name;

    protected ThreadedChannelEngine(String name) {
        this.name = name;
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
        List<Thread> workers = new ArrayList<>();
        MeasuredWindow.Timing timing;
        try (FileChannel channel = open(spec.file(), options)) {
            for (int i = 0; i < spec.qd(); i++) {
                LatencyRecorder recorder = new LatencyRecorder();
                recorders.add(recorder);
                OffsetStream offsets = spec.offsets(i);
                Thread worker = threads().name(name + "-", i).unstarted(() -> work(channel, spec, offsets, recorder,
                        window));
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
        return EngineResult.of(name, timing, recorders);
    }

    private static void work(FileChannel channel, RunSpec spec, OffsetStream offsets, LatencyRecorder recorder,
                             MeasuredWindow window) {
        ByteBuffer buffer = AlignedBuffers.direct(spec.bs(), spec.bufferAlignment(), !spec.reads());
        boolean reads = spec.reads();
        try {
            while (!window.stopped()) {
                long position = offsets.next();
                buffer.clear();
                long start = System.nanoTime();
                int n = reads ? channel.read(buffer, position) : channel.write(buffer, position);
                long end = System.nanoTime();
                if (n != spec.bs()) {
                    throw new IOException(spec.file() + ": a request at " + position + " moved " + n + " of "
                            + spec.bs() + " bytes");
                }
                if (window.measuring()) {
                    recorder.record(end - start);
                }
            }
        } catch (IOException e) {
            window.fail(e);
        }
    }
}
