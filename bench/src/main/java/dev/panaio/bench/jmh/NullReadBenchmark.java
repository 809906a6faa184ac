package dev.panaio.bench.jmh;

import dev.panaio.AioArena;
import dev.panaio.AioContext;
import dev.panaio.AioFile;
import dev.panaio.CompletionConsumer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The hot path of the low-level API, per batch: {@code batch} prepareRead
 * calls, one submit, and reaps until every completion is in. The reads are
 * buffered reads of /dev/zero, which complete inside io_submit, so what is
 * timed is panaio plus the system calls, with no device.
 *
 * <p>The score is per batch; the {@code requests} counter gives requests per
 * second. With {@code -prof gc}, {@code gc.alloc.rate.norm} is bytes per
 * batch: divide by {@code batch} for bytes per request. The target is 0, for
 * both kinds of memory.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NullReadBenchmark {
    private static final int BS = 4096;

    @Param({"1", "8", "32", "128"})
    int batch;

    /**
     * Where the buffers live: {@code aio} an AioArena (read in place, one
     * atomic use per request), {@code shared} a caller's Arena.ofShared()
     * (copied through the context's bounce memory: one 4 KiB copy per read).
     */
    @Param({"aio", "shared"})
    String memory;

    private AioContext aio;
    private AioFile zero;
    private Arena arena;
    private MemorySegment[] buffers;
    private final Sink sink = new Sink();

    /** Requests completed, reported as a rate beside the per-batch time. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Requests {
        public long requests;

        @Setup(Level.Iteration)
        public void reset() {
            requests = 0;
        }
    }

    /** Sums results, so nothing is dead code; allocation-free. */
    static final class Sink implements CompletionConsumer {
        long bytes;
        int completed;

        @Override
        public void onCompletion(long tag, long result) {
            bytes += result;
            completed++;
        }
    }

    @Setup
    public void open() throws IOException {
        aio = AioContext.open(batch);
        zero = AioFile.open(Path.of("/dev/zero"));
        arena = memory.equals("aio") ? AioArena.open() : Arena.ofShared();
        MemorySegment all = arena.allocate((long) BS * batch, 4096);
        buffers = new MemorySegment[batch];
        for (int i = 0; i < batch; i++) {
            buffers[i] = all.asSlice((long) i * BS, BS);
        }
    }

    @TearDown
    public void close() throws IOException {
        aio.close();
        zero.close();
        arena.close();
    }

    @Benchmark
    public long prepareSubmitReap(Requests requests) throws IOException {
        for (int i = 0; i < batch; i++) {
            aio.prepareRead(zero, buffers[i], 0, i);
        }
        aio.submit();
        sink.completed = 0;
        while (sink.completed < batch) {
            if (aio.reap(sink) == 0) {
                aio.await(1, sink);
            }
        }
        requests.requests += batch;
        return sink.bytes;
    }
}
