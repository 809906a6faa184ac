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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * Opening a channel on an existing file for reading and closing it again,
 * through panaio's {@link AioFileChannel} (on the shared engine) and the
 * JDK's {@link FileChannel}: what a library that opens a channel per file it
 * touches pays for each.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OpenCloseBenchmark {
    @Param({"filechannel", "panaio"})
    String channel;

    private Path path;

    @Setup
    public void create() throws IOException {
        path = Files.createTempFile(Path.of(System.getProperty("user.dir")), "open-close", ".dat");
        Files.write(path, new byte[4096]);
    }

    @TearDown
    public void delete() throws IOException {
        Files.delete(path);
    }

    @Benchmark
    public long openAndClose() throws IOException {
        try (FileChannel file = channel.equals("panaio") ? AioFileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ)) {
            return file.size();
        }
    }
}
