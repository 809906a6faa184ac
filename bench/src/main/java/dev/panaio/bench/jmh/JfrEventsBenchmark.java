package dev.panaio.bench.jmh;

import dev.panaio.AioArena;
import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.AioFileChannel;
import dev.panaio.internal.jfr.FileIoEvent;
import dev.panaio.internal.jfr.FileReadEvent;
import jdk.jfr.Recording;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;

/**
 * What panaio's JFR events cost on the hot path, in four states of the JVM
 * (each its own fork, so no state leaks into another):
 * <ul>
 *   <li>{@code none}: no recording was ever started; the event classes are loaded but JFR is not;</li>
 *   <li>{@code disabled}: a recording runs with panaio's five events disabled;</li>
 *   <li>{@code threshold}: a recording runs with them enabled at their default thresholds (20 ms for all
 *       but SubmitRetry): each read begins and ends an event, and commits none;</li>
 *   <li>{@code enabled}: a recording runs with them enabled at threshold 0: every read commits one.</li>
 * </ul>
 * Three paths: {@code channelRead}, a positional 4 KiB read of a cached file
 * through {@link AioFileChannel} (answered inline by the page cache; one
 * dev.panaio.FileRead each); {@code engineRead}, {@value #BATCH} reads of
 * /dev/zero through {@link AioEngine} futures, joined (dev.panaio.SubmitBatch
 * on the engine thread, one per io_submit), its score per read; and
 * {@code readEventOnly}, the channel's event code alone (begin if enabled,
 * complete), which resolves a few nanoseconds where the reads' own noise
 * cannot. With {@code -prof gc}, {@code gc.alloc.rate.norm} shows the bytes
 * per operation. Uses panaio's internal classes: the benchmark runs on the
 * class path.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class JfrEventsBenchmark {
    private static final int BS = 4096;
    private static final int BATCH = 16;
    private static final List<String> EVENTS = List.of("dev.panaio.FileRead", "dev.panaio.FileWrite",
            "dev.panaio.SubmitBatch", "dev.panaio.BackpressureWait", "dev.panaio.SubmitRetry");

    @Param({"none", "disabled", "threshold", "enabled"})
    String jfr;

    private Recording recording;
    private Path path;
    private AioFileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BS);
    private AioEngine engine;
    private AioFile zero;
    private AioArena arena;
    private MemorySegment[] segments;
    @SuppressWarnings("unchecked")
    private final CompletableFuture<Integer>[] reads = new CompletableFuture[BATCH];

    @Setup
    public void open() throws IOException {
        switch (jfr) {
            case "none" -> recording = null;
            case "disabled" -> {
                recording = new Recording();
                EVENTS.forEach(recording::disable);
            }
            case "threshold" -> {
                recording = new Recording();
                EVENTS.forEach(recording::enable);
            }
            case "enabled" -> {
                recording = new Recording();
                EVENTS.forEach(name -> recording.enable(name).withThreshold(Duration.ZERO));
            }
            default -> throw new IllegalArgumentException("jfr: none, disabled, threshold or enabled, not " + jfr);
        }
        if (recording != null) {
            recording.setToDisk(false); // in memory: the benchmark measures the events, not a disk
            recording.start();
        }
        path = Files.createTempFile(Path.of(System.getProperty("user.dir")), "jfr-events", ".dat");
        Files.write(path, new byte[1 << 20]); // just written: in the page cache
        engine = AioEngine.builder().threads(1).capacity(32).build();
        channel = AioFileChannel.open(path, Set.of(READ), engine);
        zero = AioFile.open(Path.of("/dev/zero"));
        arena = AioArena.open();
        segments = new MemorySegment[BATCH];
        for (int i = 0; i < BATCH; i++) {
            segments[i] = arena.allocate(BS, BS);
        }
    }

    @TearDown
    public void close() throws IOException {
        channel.close();
        zero.close();
        engine.close();
        arena.close();
        Files.delete(path);
        if (recording != null) {
            recording.close();
        }
    }

    @Benchmark
    public int channelRead() throws IOException {
        buffer.clear();
        return channel.read(buffer, 8192);
    }

    @Benchmark
    public FileIoEvent readEventOnly() {
        FileIoEvent event = FileReadEvent.beginIfEnabled(path, false);
        if (event != null) {
            event.answeredBy(FileIoEvent.PAGE_CACHE);
            event.complete(BS);
        }
        return event;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int engineRead() {
        for (int i = 0; i < BATCH; i++) {
            reads[i] = engine.read(zero, segments[i], 0);
        }
        int bytes = 0;
        for (int i = 0; i < BATCH; i++) {
            bytes += reads[i].join();
        }
        return bytes;
    }
}
