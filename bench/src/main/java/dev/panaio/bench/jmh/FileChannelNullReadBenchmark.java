package dev.panaio.bench.jmh;

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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The JDK's floor for the same request: one positional FileChannel read (a
 * pread system call) of 4 KiB from /dev/zero into a direct buffer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FileChannelNullReadBenchmark {
    private FileChannel zero;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(4096);

    @Setup
    public void open() throws IOException {
        zero = FileChannel.open(Path.of("/dev/zero"));
    }

    @TearDown
    public void close() throws IOException {
        zero.close();
    }

    @Benchmark
    public int read() throws IOException {
        buffer.clear();
        return zero.read(buffer, 0);
    }
}
