package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ExecutionException;
import java.time.Duration;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * panaio's own promises for AioFileChannel's direct I/O, beyond the JDK contract: a vector as one kernel
 * request, heap and misaligned buffers bounced (or refused in strict mode), misalignment reported as the JDK does.
 */
class AioFileChannelDirectIoTest {
    private static final int SEED = 1;

    @TempDir
    Path dir;

    // ------------------------------------------------------------- direct I/O

    // ---- scattering and gathering: one request per call (issue 12)

    @Test
    void shouldScatterAndGatherAsOneKernelRequestPerCallOnADirectChannelBeyondIovMax() throws IOException {
        Path path = TestData.writeFile(dir.resolve("vd"), 4 << 20, SEED);
        try (AioEngine engine = AioEngine.open(); AioArena arena = AioArena.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, WRITE, ExtendedOpenOption.DIRECT),
                     engine)) {
            int block = Math.toIntExact(Math.max(channel.alignment().offset(), channel.alignment().memory()));
            ByteBuffer[] srcs = new ByteBuffer[1100];
            for (int i = 0; i < srcs.length; i++) {
                srcs[i] = arena.allocate(block, block).asByteBuffer();
                TestData.fill(MemorySegment.ofBuffer(srcs[i]), (long) i * block, SEED + 1);
            }
            long before = engine.stats().requestsSubmitted();
            assertThat(channel.write(srcs)).as("the first IOV_MAX buffers").isEqualTo(1024L * block);
            assertThat(engine.stats().requestsSubmitted() - before).as("kernel requests for one gathering write")
                    .isEqualTo(1);
            assertThat(channel.write(srcs)).isEqualTo(76L * block);
            assertThat(channel.position()).isEqualTo(1100L * block);
            assertThat(engine.stats().bounceCopiedBytes()).as("aligned AioArena memory goes in place").isZero();

            ByteBuffer[] dsts = {arena.allocate(block, block).asByteBuffer(),
                    arena.allocate(3L * block, block).asByteBuffer(), arena.allocate(block, block).asByteBuffer()};
            before = engine.stats().requestsSubmitted();
            assertThat(channel.position(7L * block).read(dsts, 0, 3)).isEqualTo(5L * block);
            assertThat(engine.stats().requestsSubmitted() - before).as("kernel requests for one scattering read")
                    .isEqualTo(1);
            long at = 7L * block;
            for (ByteBuffer dst : dsts) {
                assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), at, SEED + 1)).isEqualTo(-1);
                at += dst.limit();
            }
        }
    }

    @Test
    void shouldBounceAVectorWithHeapOrMisalignedBuffersOnADirectChannelAsOneRequest() throws IOException {
        Path path = TestData.writeFile(dir.resolve("vm"), 1 << 20, SEED);
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, WRITE, ExtendedOpenOption.DIRECT),
                     engine)) {
            int block = Math.toIntExact(channel.alignment().offset());
            int memory = Math.toIntExact(channel.alignment().memory());
            ByteBuffer misaligned = ByteBuffer.allocateDirect(4 * block + 2 * memory).alignedSlice(memory)
                    .position(1).slice().limit(2 * block);
            ByteBuffer[] dsts = {ByteBuffer.allocate(block), misaligned, ByteBuffer.allocateDirect(block)};
            long before = engine.stats().requestsSubmitted();
            assertThat(channel.position(block).read(dsts, 0, 3)).isEqualTo(4L * block);
            assertThat(engine.stats().requestsSubmitted() - before).isEqualTo(1);
            assertThat(engine.stats().bounceCopiedBytes()).isEqualTo(4L * block);
            long at = block;
            for (ByteBuffer dst : dsts) {
                assertThat(dst.position()).isEqualTo(dst.limit());
                assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), at, SEED)).isEqualTo(-1);
                at += dst.limit();
            }
            int[] sizes = {block, 2 * block, block};
            for (int i = 0; i < dsts.length; i++) {
                TestData.fill(MemorySegment.ofBuffer(dsts[i].clear().limit(sizes[i])), 0, SEED + 2); // same at each start
            }
            before = engine.stats().requestsSubmitted();
            assertThat(channel.position(0).write(dsts, 0, 3)).isEqualTo(4L * block);
            assertThat(engine.stats().requestsSubmitted() - before).isEqualTo(1);
            ByteBuffer back = ByteBuffer.allocate(2 * block);
            assertThat(channel.read(back, block)).isEqualTo(2 * block);
            assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(back.flip()), 0, SEED + 2)).as("the second buffer")
                    .isEqualTo(-1);
        }
    }

    @Test
    void shouldRefuseAMisalignedBufferOfAVectorWithStrictAlignment() throws IOException {
        Path path = TestData.writeFile(dir.resolve("vs"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT,
                PanaioOpenOption.STRICT_ALIGNMENT)) {
            int block = Math.toIntExact(channel.alignment().offset());
            ByteBuffer aligned = ByteBuffer.allocateDirect(2 * block).alignedSlice(block).limit(block);
            assertThatThrownBy(() -> channel.read(new ByteBuffer[] {aligned, ByteBuffer.allocate(block)}))
                    .isInstanceOf(MisalignedIoException.class).hasMessageContaining("heap buffer");
            assertThat(aligned.position()).isZero();
            assertThat(channel.position()).isZero();
        }
    }

    @Test
    void shouldScatterACachedBufferedFileInOnePageCacheCallAndTheUncachedRestOnThePool() throws Exception {
        Path path = TestData.writeFile(dir.resolve("vb"), 1 << 20, SEED);
        try (AioEngine engine = AioEngine.open(); Arena shared = Arena.ofShared();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ), engine)) {
            // Buffers of one caller arena, and GC-managed ones: one held session covers them, so in place.
            ByteBuffer[] dsts = {shared.allocate(5000).asByteBuffer(), ByteBuffer.allocateDirect(3000),
                    shared.allocate(100_000).asByteBuffer()};
            Files.readAllBytes(path); // cached
            AioEngineStats before = engine.stats();
            assertThat(channel.position(1000).read(dsts, 0, 3)).isEqualTo(108_000);
            AioEngineStats after = engine.stats();
            assertThat(after.inlineHits() - before.inlineHits()).as("page-cache calls").isEqualTo(1);
            assertThat(after.poolRuns() - before.poolRuns()).isZero();
            assertThat(after.bounceCopiedBytes()).isZero();
            checkScattered(dsts, 1000);

            // Past the reads that ask the page cache (cachestat) first, which would send a partly cached range to
            // the pool unread: from here the page-cache call is made, and stops short.
            ByteBuffer[] page = {ByteBuffer.allocateDirect(4096)};
            for (int i = 0; i < 300; i++) {
                page[0].clear();
                assertThat(channel.position((long) (i % 256) * 4096).read(page)).isEqualTo(4096);
            }
            // Only the first 16 KiB cached: the inline call stops short, the pool reads the rest into the same buffers
            // (tried again if the kernel's readahead answers the whole range in time).
            PageCache.untilAMiss(path, 16384, () -> {
                for (ByteBuffer dst : dsts) {
                    MemorySegment.ofBuffer(dst.clear()).fill((byte) 0);
                }
                AioEngineStats ahead = engine.stats();
                assertThat(channel.position(0).read(dsts, 0, 3)).isEqualTo(108_000);
                AioEngineStats behind = engine.stats();
                checkScattered(dsts, 0);
                long misses = behind.inlineMisses() - ahead.inlineMisses();
                assertThat(misses).as("page-cache calls that stopped short").isBetween(0L, 1L);
                assertThat(behind.poolRuns() - ahead.poolRuns()).as("pool runs").isEqualTo(misses);
                return misses == 1;
            });
        }
    }

    @Test
    void shouldBounceABufferedVectorSpanningTwoCallerArenasWhoseSessionsOneCallCannotHold() throws IOException {
        Path path = TestData.writeFile(dir.resolve("v2"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); Arena one = Arena.ofShared(); Arena two = Arena.ofShared();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, WRITE), engine)) {
            ByteBuffer[] dsts = {one.allocate(700).asByteBuffer(), two.allocate(900).asByteBuffer()};
            Files.readAllBytes(path);
            assertThat(channel.position(10).read(dsts, 0, 2)).isEqualTo(1600);
            assertThat(engine.stats().bounceCopiedBytes()).isEqualTo(1600);
            checkScattered(dsts, 10);
            ByteBuffer[] srcs = {dsts[1].flip(), dsts[0].flip()};
            assertThat(channel.position(30_000).write(srcs, 0, 2)).isEqualTo(1600);
            assertThat(engine.stats().bounceCopiedBytes()).isEqualTo(3200);
            ByteBuffer back = ByteBuffer.allocate(1600);
            channel.read(back, 30_000);
            assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(back.slice(0, 900)), 710, SEED)).isEqualTo(-1);
            assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(back.slice(900, 700)), 10, SEED)).isEqualTo(-1);
        }
    }

    /** Each buffer full, holding the file's bytes from {@code position} on, in order. */
    private static void checkScattered(ByteBuffer[] dsts, long position) {
        long at = position;
        for (ByteBuffer dst : dsts) {
            assertThat(dst.remaining()).isZero();
            assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.duplicate().flip()), at, SEED))
                    .as("the buffer at %d", at).isEqualTo(-1);
            at += dst.limit();
        }
    }

    @Test
    void shouldReadIntoAlignedDirectBuffersWithoutCopying() throws IOException {
        Path path = TestData.writeFile(dir.resolve("d"), 1 << 20, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT,
                PanaioOpenOption.STRICT_ALIGNMENT)) {
            assertThat(channel.isDirect()).isTrue();
            try (AioFile file = AioFile.open(path)) {
                assertThat(channel.alignment()).as("the file's own rules, from statx").isEqualTo(file.alignment());
            }
            ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
            assertThat(channel.read(block, 8192)).isEqualTo(4096);
            assertThat(block.get(4095)).isEqualTo(TestData.byteAt(8192 + 4095, SEED));
        }
    }

    @Test
    void shouldBounceHeapAndMisalignedBuffersByDefault() throws IOException {
        Path path = TestData.writeFile(dir.resolve("bounce"), 1 << 20, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            ByteBuffer heap = ByteBuffer.allocate(4096);
            assertThat(channel.read(heap, 4096)).isEqualTo(4096);
            assertThat(heap.get(0)).isEqualTo(TestData.byteAt(4096, SEED));

            ByteBuffer misaligned = ByteBuffer.allocateDirect(16384).alignedSlice(4096).position(1).slice()
                    .limit(4096);
            assertThat(channel.read(misaligned, 0)).isEqualTo(4096);
            assertThat(misaligned.get(10)).isEqualTo(TestData.byteAt(10, SEED));

            ByteBuffer out = ByteBuffer.allocate(512);
            for (int i = 0; i < 512; i++) {
                out.put(i, (byte) 0x5a);
            }
            assertThat(channel.write(out, 512)).isEqualTo(512);
        }
        assertThat(Files.readAllBytes(path)[700]).isEqualTo((byte) 0x5a);
    }

    @Test
    void shouldRejectHeapAndMisalignedBuffersInStrictMode() throws IOException {
        Path path = TestData.writeFile(dir.resolve("strict"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT,
                PanaioOpenOption.STRICT_ALIGNMENT)) {
            long memory = channel.alignment().memory();
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(4096), 0))
                    .isInstanceOf(MisalignedIoException.class)
                    .hasMessageContaining("heap buffer")
                    .hasMessageContaining("aligned to " + memory + " bytes");
            ByteBuffer misaligned = ByteBuffer.allocateDirect(16384).alignedSlice(4096).position(8).slice()
                    .limit(4096);
            assertThatThrownBy(() -> channel.read(misaligned, 0))
                    .isInstanceOf(MisalignedIoException.class)
                    .hasMessageContaining("buffer address to be a multiple of " + memory);
        }
    }

    @Test
    void shouldReportMisalignmentAsAnIOExceptionAsTheJdkDoes() throws Exception {
        Path path = TestData.writeFile(dir.resolve("misio"), 1 << 16, SEED);
        ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
        // Code written against the JDK catches IOException around direct I/O: the JDK's channel, then panaio's.
        try (FileChannel jdk = FileChannel.open(path, READ, ExtendedOpenOption.DIRECT);
             FileChannel aio = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
            assertThatThrownBy(() -> jdk.read(block.clear(), 100)).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> aio.read(block.clear(), 100)).isInstanceOf(IOException.class)
                    .isInstanceOf(MisalignedIoException.class).hasMessageContaining("multiple of 512");
        }
        // The asynchronous channels report it through the future or the handler, not from the call.
        try (AsynchronousFileChannel jdk = AsynchronousFileChannel.open(path, READ, ExtendedOpenOption.DIRECT);
             AioAsynchronousFileChannel aio = AioAsynchronousFileChannel.open(path, READ,
                     ExtendedOpenOption.DIRECT)) {
            for (AsynchronousFileChannel channel : List.of(jdk, aio)) {
                Future<Integer> read = channel.read(block.clear(), 100);
                assertThat(catchThrowable(() -> read.get(10, TimeUnit.SECONDS)))
                        .as("%s", channel).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(IOException.class);
                CompletableFuture<Throwable> failed = new CompletableFuture<>();
                channel.read(block.clear(), 100, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer result, Void attachment) {
                        failed.complete(null);
                    }

                    @Override
                    public void failed(Throwable error, Void attachment) {
                        failed.complete(error);
                    }
                });
                assertThat(failed.get(10, TimeUnit.SECONDS)).as("%s", channel).isInstanceOf(IOException.class);
            }
            assertThat(aio.readAsync(block.clear(), 100)).failsWithin(Duration.ofSeconds(10))
                    .withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOf(MisalignedIoException.class).withMessageContaining("file position");
        }
    }

    @Test
    void shouldRejectMisalignedPositionsAndLengthsNamingTheAlignment() throws IOException {
        Path path = TestData.writeFile(dir.resolve("mis"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
            ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
            long offset = channel.alignment().offset();
            assertThatThrownBy(() -> channel.read(block, 100))
                    .isInstanceOf(MisalignedIoException.class)
                    .hasMessageContaining("file position to be a multiple of " + offset);
            assertThatThrownBy(() -> channel.read(block.limit(1000), 0))
                    .isInstanceOf(MisalignedIoException.class)
                    .hasMessageContaining("length to be a multiple of " + offset);
            assertThat(channel.isOpen()).as("a rejected request leaves the channel usable").isTrue();
        }
    }

    @Test
    void shouldNameTheFilesystemThatRefusesDirectIo() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm), "no /dev/shm here");
        // tmpfs accepts O_DIRECT since Linux 6.6 (without enforcing it): there the open must simply work.
        Path file = Files.createTempFile(shm, "panaio", ".dat");
        try (AioFileChannel channel = AioFileChannel.open(file, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            assertThat(channel.isDirect()).isTrue();
        } catch (DirectIoUnsupportedException e) {
            assertThat(e.filesystemType()).isEqualTo("tmpfs");
            assertThat(e).hasMessageContaining("(tmpfs) does not support O_DIRECT");
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
