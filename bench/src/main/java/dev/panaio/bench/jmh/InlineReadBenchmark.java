package dev.panaio.bench.jmh;

import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.sys.Syscalls;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The channels' inline page-cache read (a cached 4 KiB preadv2 on the calling
 * thread) into a caller's shared-arena buffer, three ways of keeping that
 * buffer alive for the call:
 * <ul>
 *   <li>{@code unheld}: glibc's preadv2 with the address in the iovec; nothing
 *       holds the arena (the code before issue 8, for reference);</li>
 *   <li>{@code held}: {@code syscall(SYS_preadv2, ..., buffer)}, the buffer an
 *       extra argument that the kernel ignores and FFM holds the session of;</li>
 *   <li>{@code bounce}: preadv2 into panaio's own memory, then
 *       {@code MemorySegment.copy} to the caller's.</li>
 * </ul>
 * Uses panaio's internal classes: the benchmark runs on the class path.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class InlineReadBenchmark {
    private static final int BS = 4096;

    @Param({"unheld", "held", "bounce"})
    String way;

    private Path path;
    private int fd;
    private Arena arena;
    private Arena callers;
    private MemorySegment errno;
    private MemorySegment iov;
    private MemorySegment caller;
    private MemorySegment bounce;

    @Setup
    public void open() throws IOException {
        path = Files.createTempFile(Path.of(System.getProperty("user.dir")), "inline-read", ".dat");
        Files.write(path, new byte[1 << 20]);
        arena = Arena.ofConfined();
        callers = Arena.ofShared();
        errno = Syscalls.errnoCapture(arena);
        iov = iovec.allocate(arena);
        caller = callers.allocate(BS, 4096);
        bounce = arena.allocate(BS, 4096);
        fd = (int) Syscalls.open(errno, arena.allocateFrom(path.toString()), 0, 0);
        if (fd < 0) {
            throw new IOException("open " + path + ": " + fd);
        }
        iovec.iov_base(iov, way.equals("bounce") ? bounce : caller);
        iovec.iov_len(iov, BS);
    }

    @TearDown
    public void close() throws IOException {
        Syscalls.close(errno, fd);
        arena.close();
        callers.close();
        Files.delete(path);
    }

    @Benchmark
    public long read() {
        return switch (way) {
            case "unheld" -> Syscalls.preadv2(errno, fd, iov, 1, 8192, 8);
            case "held" -> Syscalls.preadv2Holding(errno, fd, iov, 1, 8192, 8, caller);
            default -> {
                long n = Syscalls.preadv2(errno, fd, iov, 1, 8192, 8);
                MemorySegment.copy(bounce, 0, caller, 0, n);
                yield n;
            }
        };
    }
}
