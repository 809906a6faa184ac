package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.IoPriority.IoClass;
import dev.panaio.testing.BlockTrace;
import dev.panaio.testing.LoopDevice;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Per-request options above {@link AioContext}: {@link AioEngine#read}/{@link AioEngine#write} with options and
 * {@link AioAsynchronousFileChannel}'s overloads. Each test proves that the flags reached the kernel by an effect
 * only the kernel can produce from them (an errno it returns for that flag, data placed where only RWF_APPEND puts
 * it, a cache flush or priority the block layer issued), never by timing.
 */
class RequestOptionsPassThroughTest {
    private static final int SEED = 29;
    private static final Path SHM = Path.of("/dev/shm");

    @TempDir
    Path dir;

    @Test
    void shouldRefuseAnEventFdOnTheEngineAndTheChannel() throws IOException {
        Path path = TestData.writeFile(dir.resolve("notify"), 4096, SEED);
        try (AioEngine engine = AioEngine.open(); EventFd eventFd = EventFd.open();
             AioFile file = AioFile.open(path, READ); Arena arena = Arena.ofShared();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, Set.of(READ), null, engine)) {
            RequestOptions notify = RequestOptions.NONE.withNotify(eventFd);
            MemorySegment dst = arena.allocate(4096);
            assertThatThrownBy(() -> engine.read(file, dst, 0, notify))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("the engine signals its own eventfd on completion: options with "
                            + "withNotify cannot be used here");
            assertThatThrownBy(() -> channel.readAsync(ByteBuffer.allocate(16), 0, notify))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("withNotify cannot be used here");
            assertThatThrownBy(() -> engine.write(file, dst, 0, null))
                    .isInstanceOf(NullPointerException.class).hasMessage("options");
        }
    }

    /** tmpfs has no FMODE_NOWAIT: the kernel answers RWF_NOWAIT with EOPNOTSUPP, so the flag reached it. */
    @Test
    void shouldCarryNowaitFromTheEngineToTheKernel() throws Exception {
        Path path = TestData.writeFile(Files.createTempFile(SHM, "panaio-nowait", ".dat"), 4096, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, WRITE);
             Arena arena = Arena.ofShared()) {
            MemorySegment dst = arena.allocate(4096);
            assertThat(engine.read(file, dst, 0, RequestOptions.NONE).get(10, TimeUnit.SECONDS)).isEqualTo(4096);
            CompletableFuture<Integer> nowait = engine.read(file, dst, 0, RequestOptions.NONE.withFlags(RwFlag.NOWAIT));
            assertThatThrownBy(() -> nowait.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("EOPNOTSUPP");
        } finally {
            Files.deleteIfExists(path);
        }
    }

    /** RWF_APPEND puts the bytes at end of file whatever the position: only the kernel can have done that. */
    @Test
    void shouldCarryAppendFromTheEngineToTheKernel() throws Exception {
        Path path = TestData.writeFile(dir.resolve("append"), 4096, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, WRITE);
             Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(100);
            src.fill((byte) 7);
            int written = engine.write(file, src, 0, RequestOptions.NONE.withFlags(RwFlag.APPEND))
                    .get(10, TimeUnit.SECONDS);
            assertThat(written).isEqualTo(100);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes).hasSize(4196);
        assertThat(bytes[0]).isEqualTo(TestData.byteAt(0, SEED));
        assertThat(bytes[4096]).isEqualTo((byte) 7);
    }

    @Test
    void shouldCarryAppendThroughTheChannelOnADirectFile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("direct-append"), 4096, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                Set.of(READ, WRITE, ExtendedOpenOption.DIRECT), null, AioEngine.shared())) {
            ByteBuffer src = ByteBuffer.allocateDirect(4096);
            while (src.hasRemaining()) {
                src.put((byte) 9);
            }
            src.flip();
            assertThat(channel.writeAsync(src, 0, RequestOptions.NONE.withFlags(RwFlag.APPEND))
                    .get(10, TimeUnit.SECONDS)).isEqualTo(4096);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes).hasSize(8192);
        assertThat(bytes[0]).isEqualTo(TestData.byteAt(0, SEED));
        assertThat(bytes[8191]).isEqualTo((byte) 9);
    }

    /** pwritev2 gets the flags for a buffered file: tmpfs refuses RWF_NOWAIT, for the read and the write. */
    @Test
    void shouldCarryNowaitThroughTheChannelOnABufferedFile() throws Exception {
        Path path = TestData.writeFile(Files.createTempFile(SHM, "panaio-nowait", ".dat"), 4096, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, Set.of(READ, WRITE), null,
                AioEngine.shared())) {
            RequestOptions nowait = RequestOptions.NONE.withFlags(RwFlag.NOWAIT);
            assertThatThrownBy(() -> channel.writeAsync(ByteBuffer.allocate(16), 0, nowait).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasMessageContaining("EOPNOTSUPP");
            assertThatThrownBy(() -> channel.readAsync(ByteBuffer.allocate(16), 0, nowait).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasMessageContaining("EOPNOTSUPP");
            assertThat(channel.readAsync(ByteBuffer.allocate(16), 0, RequestOptions.NONE).get(10, TimeUnit.SECONDS))
                    .isEqualTo(16);
            // Flags tmpfs takes still read there: only the caller's NOWAIT is refused, panaio's own try is not.
            assertThat(channel.readAsync(ByteBuffer.allocate(16), 0, RequestOptions.NONE.withFlags(RwFlag.HIPRI))
                    .get(10, TimeUnit.SECONDS)).isEqualTo(16);
        } finally {
            Files.deleteIfExists(path);
        }
    }

    /**
     * A DSYNC write makes the block layer issue a cache flush (or a FUA write) to the device; the same write
     * without it issues none. Proven on a loop device only this test uses, through the block_rq_issue tracepoint,
     * whose rwbs field has an F for a flush or FUA.
     */
    @Test
    void shouldMakeADsyncWriteFlushTheDeviceCacheThroughTheEngineAndTheChannel() throws Exception {
        try (LoopDevice loop = LoopDevice.create(dir, 16L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("dsync"), 65536, SEED);
            try (BlockTrace trace = BlockTrace.ofDeviceHolding(dir, path); AioEngine engine = AioEngine.open();
                 AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT);
                 AioAsynchronousFileChannel buffered = AioAsynchronousFileChannel.open(path, Set.of(READ, WRITE),
                         null, engine);
                 Arena arena = Arena.ofShared()) {
                MemorySegment src = arena.allocate(4096, 4096);
                src.fill((byte) 1);
                assertThat(engine.write(file, src, 0, RequestOptions.NONE).get(10, TimeUnit.SECONDS)).isEqualTo(4096);
                assertThat(flushes(trace.issued())).as("flushes after a plain direct write").isEmpty();

                assertThat(engine.write(file, src, 4096, RequestOptions.NONE.withFlags(RwFlag.DSYNC))
                        .get(10, TimeUnit.SECONDS)).isEqualTo(4096);
                int afterEngine = flushes(trace.issued()).size();
                assertThat(afterEngine).as("flushes after a DSYNC direct write").isPositive();

                assertThat(buffered.writeAsync(ByteBuffer.allocate(100), 8192, RequestOptions.NONE)
                        .get(10, TimeUnit.SECONDS)).isEqualTo(100);
                assertThat(flushes(trace.issued())).as("flushes after a plain buffered write").hasSize(afterEngine);
                assertThat(buffered.writeAsync(ByteBuffer.allocate(100), 12288,
                        RequestOptions.NONE.withFlags(RwFlag.DSYNC)).get(10, TimeUnit.SECONDS)).isEqualTo(100);
                assertThat(flushes(trace.issued()).size()).as("flushes after a DSYNC buffered write")
                        .isGreaterThan(afterEngine);
            }
        }
    }

    /** The engine's request carries the priority to the device, as AioContext's does (IoPriorityTest). */
    @Test
    void shouldCarryThePriorityFromTheEngineToTheDevice() throws Exception {
        try (LoopDevice loop = LoopDevice.create(dir, 16L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("prio"), 8192, SEED);
            PageCache.evict(path);
            try (BlockTrace trace = BlockTrace.ofDeviceHolding(dir, path); AioEngine engine = AioEngine.open();
                 AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); Arena arena = Arena.ofShared()) {
                MemorySegment dst = arena.allocate(4096, 4096);
                RequestOptions idle = RequestOptions.NONE.withPriority(new IoPriority(IoClass.IDLE, 5));
                assertThat(engine.read(file, dst, 4096, idle).get(10, TimeUnit.SECONDS)).isEqualTo(4096);
                assertThat(TestData.firstMismatch(dst, 4096, SEED)).isEqualTo(-1);
                assertThat(trace.issued()).anySatisfy(line -> assertThat(line)
                        .matches(".*block_rq_issue: \\d+,\\d+ R[A-Z]* 4096 .*").contains("idle,0,5 "));
            }
        }
    }

    /** Lines whose rwbs (the field after the device) has F: a preflush, a flush or a FUA write. */
    private static List<String> flushes(List<String> issued) {
        return issued.stream().filter(line -> line.matches(".*block_rq_issue: \\d+,\\d+ [A-Z]*F[A-Z]* .*")).toList();
    }
}
