package dev.panaio.bench.jmh;

import dev.panaio.AioArena;
import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioEngine;
import dev.panaio.AioFile;
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
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The asynchronous APIs, one request at a time on /dev/zero, for their cost
 * and allocation per request ({@code -prof gc}: gc.alloc.rate.norm):
 * <ul>
 *   <li>{@code engine}: AioEngine.read of a MemorySegment, handed to the engine
 *       thread and back (two thread hand-offs per request);</li>
 *   <li>{@code channel}: AioAsynchronousFileChannel.readAsync of a direct
 *       ByteBuffer; /dev/zero is not a page-cache file, so the read runs on
 *       the calling thread through preadv2 (NOWAIT).</li>
 * </ul>
 * Neither can be allocation-free: each request returns a new
 * CompletableFuture, and the channel's carries an Operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AsyncNullReadBenchmark {
    private static final int BS = 4096;

    @Param({"engine", "channel"})
    String api;

    /**
     * Where the buffer lives: {@code aio} an AioArena (used in place, one use
     * held per request), {@code shared} a caller's Arena.ofShared() (the
     * engine copies it through a pooled bounce buffer; the channel's inline
     * page-cache path reads it in place, holding its session for the call).
     */
    @Param({"aio", "shared"})
    String memory;

    private AioEngine engine;
    private AioFile zero;
    private AioAsynchronousFileChannel channel;
    private Arena arena;
    private MemorySegment segment;
    private ByteBuffer buffer;

    @Setup
    public void open() throws IOException {
        engine = AioEngine.open();
        zero = AioFile.open(Path.of("/dev/zero"));
        channel = AioAsynchronousFileChannel.open(Path.of("/dev/zero"), Set.of(StandardOpenOption.READ), null,
                engine);
        arena = memory.equals("aio") ? AioArena.open() : Arena.ofShared();
        segment = arena.allocate(BS, 4096);
        buffer = segment.asByteBuffer();
    }

    @TearDown
    public void close() throws IOException {
        channel.close();
        zero.close();
        engine.close();
        arena.close();
    }

    @Benchmark
    public int read() {
        CompletableFuture<Integer> done;
        if (api.equals("engine")) {
            done = engine.read(zero, segment, 0);
        } else {
            buffer.clear();
            done = channel.readAsync(buffer, 0);
        }
        return done.join();
    }
}
