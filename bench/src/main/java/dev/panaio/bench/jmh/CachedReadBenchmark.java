package dev.panaio.bench.jmh;

import dev.panaio.AioFileChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * A positional read of a cached file, of {@code size} bytes into a direct
 * buffer (or a heap one, {@code buffer=heap}), through panaio's
 * {@link AioFileChannel} and through the JDK's {@link FileChannel}: the
 * per-call cost a user who swaps one for the other sees (a search library's
 * file directory reads like this).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CachedReadBenchmark {
    private static final int FILE_SIZE = 1 << 20;

    @Param({"1024", "8192"})
    int size;

    @Param({"filechannel", "panaio"})
    String channel;

    /** Where the bytes go: a direct buffer, or a heap one (which FileChannel copies through a cached direct one). */
    @Param({"direct", "heap"})
    String buffer;

    private Path path;
    private FileChannel file;
    private ByteBuffer destination;
    private long position;

    @Setup
    public void open() throws IOException {
        path = Files.createTempFile(Path.of(System.getProperty("user.dir")), "cached-read", ".dat");
        Files.write(path, new byte[FILE_SIZE]);
        file = channel.equals("panaio") ? AioFileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ);
        destination = buffer.equals("heap") ? ByteBuffer.allocate(size) : ByteBuffer.allocateDirect(size);
        file.read(destination, 0); // brings the pages in, should the write not have left them cached
    }

    @TearDown
    public void close() throws IOException {
        file.close();
        Files.delete(path);
    }

    @Benchmark
    public int read() throws IOException {
        destination.clear();
        int n = file.read(destination, position);
        position = (position + size) & (FILE_SIZE - 1);
        return n;
    }
}
