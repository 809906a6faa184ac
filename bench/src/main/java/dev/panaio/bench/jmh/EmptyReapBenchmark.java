package dev.panaio.bench.jmh;

import dev.panaio.AioContext;
import dev.panaio.CompletionConsumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The fixed cost of one call on a context, with no system call and nothing
 * to deliver: {@code reap} on an empty ring (the thread guard, two loads of
 * the ring header) and {@code inFlight}, a plain read, for comparison.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EmptyReapBenchmark {
    private AioContext aio;
    private final CompletionConsumer ignore = (tag, result) -> { };

    @Setup
    public void open() throws IOException {
        aio = AioContext.open(32);
    }

    @TearDown
    public void close() {
        aio.close();
    }

    @Benchmark
    public int reapEmptyRing() {
        return aio.reap(ignore);
    }

    @Benchmark
    public int inFlight() {
        return aio.inFlight();
    }
}
