package dev.panaio.bench.jmh;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioArena;
import dev.panaio.AioAsynchronousFileChannel;
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
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * What {@code scripts/bench randread --engine panaio-async} measures on an
 * {@code O_DIRECT} file, without the harness, for its allocation per read
 * ({@code -prof gc}: gc.alloc.rate.norm): {@code qd} CompletionHandlers on
 * {@link AioAsynchronousFileChannel}'s default pool, each issuing its next
 * random 4 KiB read from inside its own completion, {@value #READS} reads per
 * invocation. Every read goes through the engine and the kernel (direct I/O
 * has no page-cache answer), so this is the path the page-cache benchmarks
 * never take. {@code memory}: {@code direct} buffers from
 * {@code ByteBuffer.allocateDirect} (kept reachable by the request), or
 * {@code aio} buffers of an {@link AioArena} (a use of the arena held per
 * request). The time per read is the device's as much as panaio's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AsyncDirectReadBenchmark {
    private static final int FILE_SIZE = 32 << 20;
    private static final int BS = 4096;
    /** Reads per invocation. */
    static final int READS = 1024;

    @Param({"1", "32"})
    int qd;

    @Param({"direct", "aio"})
    String memory;

    private Path path;
    private AioAsynchronousFileChannel channel;
    private Arena arena;
    private Readers readers;

    @Setup
    public void open() throws IOException {
        path = Files.createTempFile(Path.of(System.getProperty("user.dir")), "direct-read", ".dat");
        byte[] block = new byte[1 << 20];
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.WRITE)) {
            for (int i = 0; i < FILE_SIZE / block.length; i++) {
                out.write(ByteBuffer.wrap(block));
            }
            out.force(true);
        }
        channel = AioAsynchronousFileChannel.open(path,
                Set.of(StandardOpenOption.READ, ExtendedOpenOption.DIRECT), null);
        ByteBuffer[] buffers = new ByteBuffer[qd];
        if (memory.equals("aio")) {
            arena = AioArena.open();
        }
        for (int i = 0; i < qd; i++) {
            buffers[i] = arena != null ? arena.allocate(BS, BS).asByteBuffer()
                    : ByteBuffer.allocateDirect(2 * BS).alignedSlice(BS).limit(BS);
        }
        readers = new Readers(channel, buffers);
    }

    @TearDown
    public void close() throws IOException {
        channel.close();
        if (arena != null) {
            arena.close();
        }
        Files.delete(path);
    }

    @Benchmark
    @OperationsPerInvocation(READS)
    public long read() throws IOException {
        return readers.run();
    }

    /** {@code qd} handlers, each re-issuing its read from its completion until {@value #READS} are done. */
    private static final class Readers {
        private final AioAsynchronousFileChannel channel;
        private final Reader[] readers;
        private final AtomicInteger tickets = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private Thread waiter;
        private volatile boolean finished;
        private volatile Throwable failure;

        Readers(AioAsynchronousFileChannel channel, ByteBuffer[] buffers) {
            this.channel = channel;
            this.readers = new Reader[buffers.length];
            for (int i = 0; i < buffers.length; i++) {
                readers[i] = new Reader(buffers[i], i);
            }
        }

        long run() throws IOException {
            waiter = Thread.currentThread();
            finished = false;
            done.set(0);
            tickets.set(READS - readers.length);
            for (Reader reader : readers) {
                reader.issue();
            }
            while (!finished) {
                LockSupport.park(this);
            }
            if (failure != null) {
                throw new IOException(failure);
            }
            return done.get();
        }

        private void finishOne() {
            if (done.incrementAndGet() == READS) {
                finished = true;
                LockSupport.unpark(waiter);
            }
        }

        /** One buffer's chain of reads. */
        private final class Reader implements CompletionHandler<Integer, Void> {
            private final ByteBuffer buffer;
            private final SplittableRandom random;

            Reader(ByteBuffer buffer, int seed) {
                this.buffer = buffer;
                this.random = new SplittableRandom(seed);
            }

            void issue() {
                buffer.clear();
                channel.read(buffer, (long) random.nextInt(FILE_SIZE / BS) * BS, null, this);
            }

            @Override
            public void completed(Integer n, Void attachment) {
                boolean more = tickets.getAndDecrement() > 0;
                if (more) {
                    issue();
                }
                finishOne();
            }

            @Override
            public void failed(Throwable t, Void attachment) {
                failure = t;
                finished = true;
                LockSupport.unpark(waiter);
            }
        }
    }
}
