package dev.panaio.bench.jmh;

import dev.panaio.AioAsynchronousFileChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What {@code scripts/bench randread --buffered --qd 1} on a cached file
 * measures, without the harness: random 4 KiB reads of a cached 64 MiB file,
 * one at a time, {@value #CHAIN} per invocation. {@code panaio-async} is a
 * CompletionHandler on {@link AioAsynchronousFileChannel}'s default pool that
 * issues the next read from inside its own completion (a handler chain: the
 * page cache answers each read on the pool thread, which runs its handler
 * next); {@code filechannel} is the benchmark thread looping on
 * {@link FileChannel#read(ByteBuffer, long)}. Per read, so the two compare
 * directly ({@code -prof gc} for the allocation, {@code -prof perfnorm} for
 * instructions where the machine has hardware counters); the chain's one
 * hand-off to the pool and back per invocation is spread over its reads.
 * Each iteration also prints the process's CPU time per read ({@code cpu
 * ns/read}), which a busy machine inflates far less than the wall time: time
 * spent waiting for a CPU is not in it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CachedHandlerChainBenchmark {
    private static final int FILE_SIZE = 64 << 20;
    private static final int BS = 4096;
    /** Reads per invocation: under HandlerChains' budget of 1024 handlers in a row, so one pool thread runs them. */
    static final int CHAIN = 1000;
    /** Random block offsets, cycled through. */
    private static final int OFFSETS = 1 << 16;

    @Param({"panaio-async", "filechannel"})
    String engine;

    private Path path;
    private FileChannel file;
    private AioAsynchronousFileChannel async;
    private final long[] offsets = new long[OFFSETS];
    private Chain chain;
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long cpuAtStart;
    private long invocations;

    @Setup
    public void open() throws IOException {
        path = Files.createTempFile(Path.of(System.getProperty("user.dir")), "cached-chain", ".dat");
        byte[] block = new byte[1 << 20];
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.WRITE)) {
            for (int i = 0; i < FILE_SIZE / block.length; i++) {
                out.write(ByteBuffer.wrap(block));
            }
        }
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < OFFSETS; i++) {
            offsets[i] = (long) random.nextInt(FILE_SIZE / BS) * BS;
        }
        file = FileChannel.open(path, StandardOpenOption.READ);
        ByteBuffer all = ByteBuffer.allocateDirect(1 << 20);
        for (long at = 0; at < FILE_SIZE; at += all.capacity()) { // brings every page in
            all.clear();
            file.read(all, at);
        }
        if (engine.equals("panaio-async")) {
            async = AioAsynchronousFileChannel.open(path, StandardOpenOption.READ);
            chain = new Chain(async, offsets);
        }
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        invocations = 0;
        cpuAtStart = OS.getProcessCpuTime();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        long cpu = OS.getProcessCpuTime() - cpuAtStart;
        System.out.printf("cpu ns/read: %.1f (%s)%n", cpu / (double) (invocations * CHAIN), engine);
    }

    @TearDown
    public void close() throws IOException {
        if (async != null) {
            async.close();
        }
        file.close();
        Files.delete(path);
    }

    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BS);
    private int next;

    @Benchmark
    @OperationsPerInvocation(CHAIN)
    public long read() throws IOException {
        invocations++;
        if (chain != null) {
            return chain.run();
        }
        long total = 0;
        for (int i = 0; i < CHAIN; i++) {
            buffer.clear();
            total += file.read(buffer, offsets[next]);
            next = (next + 1) & (OFFSETS - 1);
        }
        return total;
    }

    /** One handler that issues the next read from its own completion, {@value #CHAIN} times. */
    private static final class Chain implements CompletionHandler<Integer, Void> {
        private final AioAsynchronousFileChannel channel;
        private final long[] offsets;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(BS);
        private int next;
        private int left;
        private long total;
        private Thread waiter;
        private volatile boolean done;
        private volatile Throwable failure;

        Chain(AioAsynchronousFileChannel channel, long[] offsets) {
            this.channel = channel;
            this.offsets = offsets;
        }

        long run() throws IOException {
            waiter = Thread.currentThread();
            left = CHAIN;
            total = 0;
            done = false;
            issue();
            while (!done) {
                LockSupport.park(this);
            }
            if (failure != null) {
                throw new IOException(failure);
            }
            return total;
        }

        private void issue() {
            buffer.clear();
            long at = offsets[next];
            next = (next + 1) & (OFFSETS - 1);
            channel.read(buffer, at, null, this);
        }

        @Override
        public void completed(Integer n, Void attachment) {
            total += n;
            if (--left > 0) {
                issue();
            } else {
                done = true;
                LockSupport.unpark(waiter);
            }
        }

        @Override
        public void failed(Throwable t, Void attachment) {
            failure = t;
            done = true;
            LockSupport.unpark(waiter);
        }
    }
}
