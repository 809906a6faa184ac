package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.child.CarrierCheck;
import dev.panaio.testing.child.HandlerThreadFactoryProbe;
import dev.panaio.testing.child.VirtualMissCheck;
import dev.panaio.testing.ChildJvm;
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
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** panaio's own promises for its channels, beyond the JDK contract (see the *ContractTest classes). */
class AioFileChannelTest {
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
    void shouldScatterACachedBufferedFileInOnePageCacheCallAndTheUncachedRestOnThePool() throws IOException {
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

            // Only the first 16 KiB cached: the inline call stops short, the pool reads the rest into the same buffers.
            PageCache.cacheOnlyTheFirst(path, 16384);
            for (ByteBuffer dst : dsts) {
                MemorySegment.ofBuffer(dst.clear()).fill((byte) 0);
            }
            before = engine.stats();
            assertThat(channel.position(0).read(dsts, 0, 3)).isEqualTo(108_000);
            after = engine.stats();
            assertThat(after.inlineMisses() - before.inlineMisses()).isEqualTo(1);
            assertThat(after.poolRuns() - before.poolRuns()).isEqualTo(1);
            checkScattered(dsts, 0);
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

    // -------------------------------------------------------- virtual threads

    @Test
    void shouldServeThousandsOfVirtualThreadsWithoutCompensatingCarriers() throws Exception {
        Path path = TestData.writeFile(dir.resolve("vt"), 16 << 20, SEED);
        ChildJvm.Outcome run = ChildJvm.onClassPath(CarrierCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED"), "aio", path.toString(), "4000", "5");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assumeTrue(!run.stdout().startsWith("unsupported"), run.stdout());
        Matcher m = Pattern.compile("parallelism=(\\d+) maxPool=(\\d+) reads=(\\d+) mismatches=(\\d+)")
                .matcher(run.stdout());
        assertThat(m.find()).as(run.stdout()).isTrue();
        assertThat(Long.parseLong(m.group(3))).isEqualTo(20_000);
        assertThat(Long.parseLong(m.group(4))).isZero();
        assertThat(Integer.parseInt(m.group(2))).as("carrier pool size").isLessThanOrEqualTo(
                Integer.parseInt(m.group(1)));
    }

    @Test
    void shouldUnmountAVirtualThreadWhoseBufferedReadMissesThePageCache() throws Exception {
        int threads = 16;
        Path path = TestData.writeFile(dir.resolve("vt-miss"), threads << 20, SEED);
        ChildJvm.Outcome run = ChildJvm.onClassPath(VirtualMissCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED", "-Djdk.virtualThreadScheduler.parallelism=1",
                        "-Djdk.virtualThreadScheduler.maxPoolSize=1"),
                path.toString(), Integer.toString(threads), Integer.toString(SEED));
        assertThat(run.exitCode()).as(run.toString()).isZero();
        Matcher m = Pattern.compile(
                "startedWhenFirstReturned=(\\d+) threads=(\\d+) poolRuns=(\\d+) mismatches=(\\d+)").matcher(run.stdout());
        assertThat(m.find()).as(run.stdout()).isTrue();
        // One carrier: only if the first read unmounted its thread could the others start before it returned.
        assertThat(Integer.parseInt(m.group(1))).as(run.stdout()).isEqualTo(threads);
        assertThat(Long.parseLong(m.group(3))).as("reads run on the pool").isEqualTo(threads);
        assertThat(Long.parseLong(m.group(4))).isZero();
    }

    @Test
    void shouldSeeTheJdkFileChannelCompensateCarriersWhichShowsTheCheckWorks() throws Exception {
        Path path = TestData.writeFile(dir.resolve("vt-jdk"), 16 << 20, SEED);
        PageCache.evict(path);
        ChildJvm.Outcome run = ChildJvm.onClassPath(CarrierCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED"), "jdk", path.toString(), "200", "5");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assumeTrue(!run.stdout().startsWith("unsupported"), run.stdout());
        Matcher m = Pattern.compile("parallelism=(\\d+) maxPool=(\\d+)").matcher(run.stdout());
        assertThat(m.find()).as(run.stdout()).isTrue();
        assertThat(Integer.parseInt(m.group(2))).as("carrier pool size under the JDK's blocking reads")
                .isGreaterThan(Integer.parseInt(m.group(1)));
    }

    // ------------------------------------------------- buffered reads, NOWAIT

    /** The thread a buffered read's CompletionHandler ran on. */
    private static String completingThread(AioAsynchronousFileChannel channel, long position) throws Exception {
        CompletableFuture<String> thread = new CompletableFuture<>();
        channel.read(ByteBuffer.allocateDirect(4096), position, null, new CompletionHandler<Integer, Void>() {
            @Override
            public void completed(Integer result, Void attachment) {
                if (result != 4096) {
                    thread.completeExceptionally(new AssertionError("read " + result));
                }
                thread.complete(Thread.currentThread().getName());
            }

            @Override
            public void failed(Throwable error, Void attachment) {
                thread.completeExceptionally(error);
            }
        });
        return thread.get(30, TimeUnit.SECONDS);
    }

    @Test
    void shouldCompleteCachedBufferedReadsInlineAndDeliverUncachedOnesOffThePool() throws Exception {
        Path path = TestData.writeFile(dir.resolve("nowait"), 1 << 20, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                PanaioOpenOption.INLINE_COMPLETION)) {
            Files.readAllBytes(path); // now cached
            assertThat(completingThread(channel, 0)).isEqualTo(Thread.currentThread().getName());
            PageCache.evict(path);
            // The pool reads; the handler runs on a delivery thread, never on the pool it might wait for.
            assertThat(completingThread(channel, 512 * 1024)).startsWith("panaio-delivery-");
        }
    }

    @Test
    void shouldFallBackToThePoolOnTmpfsWhereNowaitIsUnsupported() throws Exception {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm here");
        Path file = TestData.writeFile(Files.createTempFile(shm, "panaio", ".dat"), 1 << 16, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(file, READ,
                PanaioOpenOption.INLINE_COMPLETION)) {
            // The pool reads; the handler runs on a delivery thread, never on the pool it might wait for.
            assertThat(completingThread(channel, 0)).startsWith("panaio-delivery-");
            ByteBuffer dst = ByteBuffer.allocate(100);
            assertThat(channel.read(dst, 100).get(10, TimeUnit.SECONDS)).isEqualTo(100);
            assertThat(dst.get(0)).isEqualTo(TestData.byteAt(100, SEED));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Bytes this thread has had read from storage: the kernel charges a read bio to the thread that submits it. */
    private static long bytesThisThreadReadFromStorage() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/io"))) {
            if (line.startsWith("read_bytes: ")) {
                return Long.parseLong(line.substring("read_bytes: ".length()));
            }
        }
        throw new AssertionError("no read_bytes in /proc/thread-self/io");
    }

    /** cachestat counts no pages of a device: its reads are tried inline, not sent to the pool as misses. */
    @Test
    void shouldReadADeviceInlineThoughCachestatCountsNoPagesOfIt() throws Exception {
        try (AioEngine engine = AioEngine.open();
             AioFileChannel zero = AioFileChannel.open(Path.of("/dev/zero"), Set.of(READ), engine)) {
            ByteBuffer dst = ByteBuffer.allocateDirect(4096);
            for (int i = 0; i < 8; i++) {
                assertThat(zero.read(dst.clear(), 0)).isEqualTo(4096);
            }
            assertThat(engine.stats().poolRuns()).as("reads sent to the pool").isZero();
            assertThat(engine.stats().inlineHits()).as("reads answered inline").isEqualTo(8);
        }
    }

    @Test
    void shouldStartNoDiskReadOnTheCallingThreadWhenABufferedReadMissesThePageCache() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/thread-self/io")), "no per-thread I/O accounting here");
        int reads = 16;
        Path path = TestData.writeFile(dir.resolve("misses"), reads << 18, SEED);
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, Set.of(READ), null,
                     engine)) {
            PageCache.evict(path);
            long before = bytesThisThreadReadFromStorage();
            List<ByteBuffer> buffers = new ArrayList<>();
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < reads; i++) {
                ByteBuffer dst = ByteBuffer.allocateDirect(4096);
                buffers.add(dst);
                results.add(channel.read(dst, (long) i << 18));
            }
            // A NOWAIT read that misses starts readahead before it answers EAGAIN: that would be charged here.
            assertThat(bytesThisThreadReadFromStorage() - before).as("bytes the caller's thread had read").isZero();
            for (int i = 0; i < reads; i++) {
                assertThat(results.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(4096);
                assertThat(buffers.get(i).get(17)).isEqualTo(TestData.byteAt(((long) i << 18) + 17, SEED));
            }
            assertThat(engine.stats().poolRuns()).isEqualTo(reads);
        }
    }

    @Test
    void shouldMoveAFileBufferedWritesToThePoolAfterOneThatHeldTheCallerForMilliseconds() throws Exception {
        Path path = dir.resolve("held");
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(CREATE, READ, WRITE), engine)) {
            // 256 MiB copied into the page cache cannot take less than a millisecond (that would be 256 GB/s): to
            // panaio it looks like a write the kernel's dirty-page throttling held, as such a write would be.
            ByteBuffer large = ByteBuffer.allocateDirect(256 << 20);
            TestData.fill(MemorySegment.ofBuffer(large), 4096, SEED);
            assertThat(channel.write(large, 4096)).isEqualTo(256 << 20);
            ByteBuffer small = ByteBuffer.allocateDirect(4096);
            TestData.fill(MemorySegment.ofBuffer(small), 0, SEED);
            long before = engine.stats().poolRuns();
            assertThat(channel.write(small, 0)).isEqualTo(4096);
            assertThat(engine.stats().poolRuns() - before).as("the next write went to the pool").isEqualTo(1);
            ByteBuffer check = ByteBuffer.allocateDirect(8192);
            assertThat(channel.read(check, (256 << 20) - 4096)).isEqualTo(8192);
            assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(check), (256 << 20) - 4096, SEED))
                    .isEqualTo(-1);
        }
    }

    // ------------------------------------------------------------ concurrency

    @Test
    void shouldKeepEveryBlockIntactUnderConcurrentReadersAndWriters() throws Exception {
        int blocks = 512;
        Path path = dir.resolve("mixed");
        try (AioFileChannel channel = AioFileChannel.open(path, CREATE, READ, WRITE, ExtendedOpenOption.DIRECT);
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            // Each block holds its own number, a version and a CRC: a torn or misplaced write shows.
            ByteBuffer initial = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
            for (int b = 0; b < blocks; b++) {
                fillBlock(initial, b, 0);
                channel.write(initial, b * 4096L);
            }
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int writer = t;
                work.add(threads.submit(() -> {
                    ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
                    for (int i = 0; i < 200; i++) {
                        int b = (writer * 31 + i * 17) % blocks;
                        if ((i + writer) % 3 == 0) {
                            block.clear();
                            assertThat(channel.read(block, b * 4096L)).isEqualTo(4096);
                            verifyBlock(block, b);
                        } else {
                            fillBlock(block, b, writer * 1000 + i);
                            assertThat(channel.write(block, b * 4096L)).isEqualTo(4096);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get(60, TimeUnit.SECONDS);
            }
            ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
            for (int b = 0; b < blocks; b++) {
                block.clear();
                assertThat(channel.read(block, b * 4096L)).isEqualTo(4096);
                verifyBlock(block, b);
            }
        }
    }

    private static void fillBlock(ByteBuffer block, int number, int version) {
        block.clear();
        block.putLong(0, number).putLong(8, version);
        for (int i = 16; i < 4088; i++) {
            block.put(i, (byte) (number * 7 + version * 13 + i));
        }
        CRC32 crc = new CRC32();
        crc.update(block.slice(0, 4088));
        block.putLong(4088, crc.getValue());
    }

    private static void verifyBlock(ByteBuffer block, int number) {
        assertThat(block.getLong(0)).as("block number").isEqualTo(number);
        CRC32 crc = new CRC32();
        crc.update(block.slice(0, 4088));
        assertThat(block.getLong(4088)).as("CRC of block %d", number).isEqualTo(crc.getValue());
    }

    /** Each read is counted by id in its CompletionHandler, where a second delivery would show. */
    @Test
    void shouldCompleteOrFailEveryReadExactlyOnceWhenClosedDuringSubmissions() throws Exception {
        Path path = TestData.writeFile(dir.resolve("race"), 8 << 20, SEED);
        int perThread = 300;
        for (int round = 0; round < 5; round++) {
            AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                    ExtendedOpenOption.DIRECT);
            AtomicIntegerArray deliveries = new AtomicIntegerArray(4 * perThread);
            AtomicInteger delivered = new AtomicInteger();
            Set<Class<?>> failures = java.util.concurrent.ConcurrentHashMap.newKeySet();
            CompletionHandler<Integer, Integer> handler = new CompletionHandler<>() {
                @Override
                public void completed(Integer n, Integer request) {
                    deliveries.incrementAndGet(request);
                    delivered.incrementAndGet();
                }

                @Override
                public void failed(Throwable error, Integer request) {
                    failures.add(error.getClass());
                    deliveries.incrementAndGet(request);
                    delivered.incrementAndGet();
                }
            };
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int first = t * perThread;
                submitters.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
                        channel.read(block, (i % 2048) * 4096L, first + i, handler);
                    }
                }));
            }
            Thread.sleep(round);
            channel.close();
            for (Thread t : submitters) {
                t.join();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (delivered.get() < 4 * perThread && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(50); // room for a late second delivery to show
            for (int request = 0; request < 4 * perThread; request++) {
                assertThat(deliveries.get(request)).as("deliveries of read %d", request).isEqualTo(1);
            }
            assertThat(failures).isSubsetOf(Set.of(ClosedChannelException.class, AsynchronousCloseException.class));
        }
    }

    @Test
    void shouldWorkAsAPlainFileChannelForCodeWrittenAgainstTheInterface() throws IOException {
        Path path = TestData.writeFile(dir.resolve("plain"), 10_000, SEED);
        try (FileChannel channel = AioFileChannel.open(path, READ)) {
            ByteBuffer all = ByteBuffer.allocate(10_000);
            while (all.hasRemaining() && channel.read(all) > 0) {
                // read to the end, as ordinary code does
            }
            assertThat(all.position()).isEqualTo(10_000);
            assertThat(new HashSet<>(List.of(channel.read(ByteBuffer.allocate(1))))).containsExactly(-1);
        }
    }

    @Test
    void shouldRefuseABlockingCallFromAnEngineCallback() throws Exception {
        Path path = TestData.writeFile(dir.resolve("callback"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); EventFd trigger = EventFd.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, ExtendedOpenOption.DIRECT), engine)) {
            ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
            CompletableFuture<Integer> chained = engine.poll(trigger, 1).thenApply(events -> {
                try {
                    return channel.read(block, 0); // on the engine thread: it would wait for itself
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            trigger.write(1);
            assertThatThrownBy(() -> chained.get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("would wait for that thread itself");
        }
    }

    @Test
    void shouldBounceAReadIntoAMisalignedBufferOfAConfinedArena() throws Exception {
        Path path = TestData.writeFile(dir.resolve("confined"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT);
             java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            ByteBuffer misaligned = confined.allocate(4096 + 64, 4096).asSlice(1, 4096).asByteBuffer();
            assertThat(channel.read(misaligned, 4096)).isEqualTo(4096); // copied back on this thread
            assertThat(misaligned.get(0)).isEqualTo(TestData.byteAt(4096, SEED));
        }
    }

    @Test
    void shouldRefuseAnAsynchronousBouncedReadIntoAConfinedBuffer() throws Exception {
        Path path = TestData.writeFile(dir.resolve("confined-async"), 1 << 16, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                ExtendedOpenOption.DIRECT); java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            ByteBuffer misaligned = confined.allocate(4096 + 64, 4096).asSlice(1, 4096).asByteBuffer();
            assertThatThrownBy(() -> channel.readAsync(misaligned, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Buffer is thread confined");
        }
    }

    @Test
    void shouldRefuseAByteBufferWhoseArenaIsClosed() throws Exception {
        Path path = TestData.writeFile(dir.resolve("dead"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
            ByteBuffer dead = arena.allocate(4096, 4096).asByteBuffer();
            arena.close();
            assertThatThrownBy(() -> channel.read(dead, 0))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("arena is already closed");
            assertThat(channel.isOpen()).isTrue();
        }
    }

    @Test
    void shouldNotRecurseWithoutBoundWhenHandlersChainReadsOfACachedFile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("chain"), 8 << 20, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ)) {
            Files.readAllBytes(path); // cached: every read completes on the calling thread
            AtomicInteger maxDepth = new AtomicInteger();
            CompletableFuture<Long> done = new CompletableFuture<>();
            ByteBuffer buffer = ByteBuffer.allocateDirect(512);
            channel.read(buffer, 0, 0L, new CompletionHandler<Integer, Long>() {
                @Override
                public void completed(Integer n, Long position) {
                    maxDepth.accumulateAndGet(Thread.currentThread().getStackTrace().length, Math::max);
                    if (n < 0) {
                        done.complete(position);
                        return;
                    }
                    buffer.clear();
                    channel.read(buffer, position + n, position + n, this);
                }

                @Override
                public void failed(Throwable error, Long position) {
                    done.completeExceptionally(error);
                }
            });
            assertThat(done.get(60, TimeUnit.SECONDS)).isEqualTo(8L << 20);
            assertThat(maxDepth.get()).as("deepest stack in a handler").isLessThan(500);
        }
    }

    @Test
    void shouldCloseWhenAnInterruptClosesTheDelegateDuringAMetadataCall() throws Exception {
        Path path = TestData.writeFile(dir.resolve("interrupt"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            Thread.currentThread().interrupt();
            try {
                assertThatThrownBy(channel::size).isInstanceOf(java.nio.channels.ClosedByInterruptException.class);
            } finally {
                Thread.interrupted();
            }
            assertThat(channel.isOpen()).isFalse();
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(10), 0))
                    .isInstanceOf(ClosedChannelException.class);
        }
    }

    @Test
    void shouldOpenAPanaioChannelWithASetOfOptionsAndApplyFileAttributes() throws Exception {
        Path path = dir.resolve("attrs");
        var permissions = java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----");
        try (FileChannel channel = AioFileChannel.open(path, Set.of(CREATE, WRITE),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(permissions))) {
            // The JDK's static FileChannel.open(Path, Set, FileAttribute...) is hidden, not inherited.
            assertThat(channel).isInstanceOf(AioFileChannel.class);
        }
        assertThat(Files.getPosixFilePermissions(path)).isEqualTo(permissions);
        try (var async = AioAsynchronousFileChannel.open(path, Set.of(READ), null)) {
            assertThat(async).isInstanceOf(AioAsynchronousFileChannel.class);
        }
    }

    @Test
    void shouldLetACompletionHandlerWaitForAFutureOfTheSameChannel() throws Exception {
        Path path = TestData.writeFile(dir.resolve("nested"), 8192, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ, WRITE)) {
            CompletableFuture<Integer> inner = new CompletableFuture<>();
            // A buffered write completes on the calling thread; so does the one its handler waits for.
            channel.write(ByteBuffer.wrap(new byte[10]), 0, null, new CompletionHandler<Integer, Void>() {
                @Override
                public void completed(Integer n, Void attachment) {
                    try {
                        inner.complete(channel.write(ByteBuffer.wrap(new byte[10]), 100).get(10, TimeUnit.SECONDS));
                    } catch (Exception e) {
                        inner.completeExceptionally(e);
                    }
                }

                @Override
                public void failed(Throwable error, Void attachment) {
                    inner.completeExceptionally(error);
                }
            });
            assertThat(inner.get(20, TimeUnit.SECONDS)).isEqualTo(10);
        }
    }

    // ------------------------------------------------------------ locks: OFD locks on the channel's descriptor

    @Test
    void shouldConflictWithAJdkChannelsLockOnTheSameFileInThisJvm() throws Exception {
        Path path = TestData.writeFile(dir.resolve("locked"), 100, SEED);
        try (FileChannel jdk = FileChannel.open(path, READ, WRITE);
             AioFileChannel panaio = AioFileChannel.open(path, READ, WRITE)) {
            java.nio.channels.FileLock held = panaio.lock(0, 10, false);
            assertThat(jdk.tryLock(0, 10, false)).as("the JDK sees panaio's OFD lock as another holder's").isNull();
            held.release();
            java.nio.channels.FileLock jdkLock = jdk.lock(0, 10, false);
            assertThat(panaio.tryLock(5, 10, false)).isNull();
            jdkLock.release();
            assertThat(panaio.tryLock(5, 10, false)).isNotNull();
        }
    }

    @Test
    void shouldThrowOverlappingFileLockExceptionAcrossPanaioChannelsOfOneFile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("locked"), 100, SEED);
        try (AioFileChannel first = AioFileChannel.open(path, READ, WRITE);
             AioAsynchronousFileChannel second = AioAsynchronousFileChannel.open(path, READ, WRITE)) {
            java.nio.channels.FileLock held = first.lock(0, 10, true);
            assertThatThrownBy(() -> second.tryLock(5, 10, true))
                    .isInstanceOf(java.nio.channels.OverlappingFileLockException.class);
            assertThatThrownBy(() -> second.lock(5, 10, true, null, null))
                    .isInstanceOf(NullPointerException.class);
            held.release();
            assertThat(second.lock(5, 10, true).get(10, TimeUnit.SECONDS).isValid()).isTrue();
        }
    }

    @Test
    void shouldCloseTheChannelAndThrowFileLockInterruptionExceptionWhenABlockingLockIsInterrupted()
            throws Exception {
        Path path = TestData.writeFile(dir.resolve("locked"), 100, SEED);
        try (FileChannel jdk = FileChannel.open(path, READ, WRITE)) {
            java.nio.channels.FileLock held = jdk.lock(0, 10, false);
            AioFileChannel channel = AioFileChannel.open(path, READ, WRITE);
            CompletableFuture<Throwable> thrown = new CompletableFuture<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    channel.lock(0, 10, false);
                    thrown.complete(null);
                } catch (Throwable t) {
                    thrown.complete(t);
                }
            });
            Thread.sleep(100); // waiting for the JDK's lock
            waiter.interrupt();
            assertThat(thrown.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(java.nio.channels.FileLockInterruptionException.class);
            assertThat(channel.isOpen()).isFalse();

            // Closing any descriptor of the file drops this process's POSIX locks on it (the JDK's FileLock
            // javadoc warns of it): the JDK's lock went with the interrupted channel, so take it again.
            assertThat(held.isValid()).isTrue(); // as far as the JDK knows
            held.release();
            java.nio.channels.FileLock heldAgain = jdk.lock(0, 10, false);
            AioFileChannel closing = AioFileChannel.open(path, READ, WRITE);
            CompletableFuture<Throwable> closedMeanwhile = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                try {
                    closing.lock(0, 10, false);
                    closedMeanwhile.complete(null);
                } catch (Throwable t) {
                    closedMeanwhile.complete(t);
                }
            });
            Thread.sleep(100);
            closing.close();
            assertThat(closedMeanwhile.get(10, TimeUnit.SECONDS)).isInstanceOf(AsynchronousCloseException.class);

            heldAgain.release();
            java.nio.channels.FileLock heldOnceMore = jdk.lock(0, 10, false);
            try (AioFileChannel waiting = AioFileChannel.open(path, READ, WRITE)) {
                Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(100);
                        heldOnceMore.release();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                assertThat(waiting.lock(0, 10, false).isValid()).as("taken once the JDK's lock is released")
                        .isTrue();
            }
        }
    }

    @Test
    void shouldReleaseTheLocksOfAChannelDroppedWithoutClose() throws Exception {
        Path path = TestData.writeFile(dir.resolve("locked"), 100, SEED);
        lockAndDrop(path);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, WRITE)) {
            java.nio.channels.FileLock lock = null;
            for (int i = 0; i < 200 && lock == null; i++) {
                System.gc();
                try {
                    lock = channel.tryLock(0, 10, false);
                } catch (java.nio.channels.OverlappingFileLockException stillHeld) {
                    Thread.sleep(50);
                }
            }
            assertThat(lock).as("the dropped channel's lock, released by its cleaner").isNotNull();
        }
    }

    @Test
    void shouldTakeDefaultHandlerThreadsFromTheJdksThreadFactoryPropertyAsTheJdkDoes() throws Exception {
        Path path = TestData.writeFile(dir.resolve("factory"), 4096, SEED);
        ChildJvm.Outcome run = ChildJvm.onClassPath(HandlerThreadFactoryProbe.class,
                List.of("--enable-native-access=ALL-UNNAMED", "-D" + "java.nio.channels.DefaultThreadPool.threadFactory="
                        + HandlerThreadFactoryProbe.Factory.class.getName()), path.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.value("jdk")).as("the JDK's channel, which shows the probe works").isEqualTo("true");
        assertThat(run.value("panaio")).as(run.toString()).isEqualTo("true");
    }

    private static void lockAndDrop(Path path) throws IOException {
        AioFileChannel dropped = AioFileChannel.open(path, READ, WRITE);
        assertThat(dropped.tryLock(0, 10, false)).isNotNull();
    }

    @Test
    void shouldRunAsynchronousHandlersOnTheDefaultExecutorUnlessInlineCompletionIsAsked() throws Exception {
        Path path = TestData.writeFile(dir.resolve("cached"), 4096, SEED);
        Files.readAllBytes(path);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ)) {
            assertThat(completingThread(channel, 0)).startsWith("panaio-handler-");
        }
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                PanaioOpenOption.INLINE_COMPLETION)) {
            assertThat(completingThread(channel, 0)).isEqualTo(Thread.currentThread().getName());
        }
    }

    @Test
    void shouldRefusePathsOfAnotherFileSystem() throws Exception {
        Path zip = dir.resolve("a.zip");
        try (java.nio.file.FileSystem zipfs = java.nio.file.FileSystems.newFileSystem(zip,
                java.util.Map.of("create", "true"))) {
            Path inside = zipfs.getPath("/inside");
            assertThatThrownBy(() -> AioFileChannel.open(inside, READ))
                    .isInstanceOf(java.nio.file.ProviderMismatchException.class);
            assertThatThrownBy(() -> AioAsynchronousFileChannel.open(inside, READ))
                    .isInstanceOf(java.nio.file.ProviderMismatchException.class);
        }
    }

    @Test
    void shouldTransferToAndFromADirectChannelAtAnyPosition() throws Exception {
        Path source = TestData.writeFile(dir.resolve("direct-source"), 100_000, SEED);
        Path copy = dir.resolve("copy");
        try (AioFileChannel direct = AioFileChannel.open(source, Set.of(READ, ExtendedOpenOption.DIRECT));
             FileChannel target = FileChannel.open(copy, CREATE, WRITE)) {
            assertThat(direct.transferTo(3, 70_001, target)).isEqualTo(70_001);
        }
        byte[] bytes = Files.readAllBytes(copy);
        for (int i = 0; i < bytes.length; i += 101) {
            assertThat(bytes[i]).isEqualTo(TestData.byteAt(3 + i, SEED));
        }
    }

    @Test
    void shouldGiveBackTheDescriptorsOfAsynchronousChannelsDroppedWithoutClose() throws Exception {
        Path path = TestData.writeFile(dir.resolve("dropped"), 100, SEED);
        int before = dev.panaio.testing.OpenDescriptors.on(path);
        dropAsynchronousChannels(path, 50);
        int after = dev.panaio.testing.OpenDescriptors.awaitOn(path, n -> n <= before, true, 10_000);
        assertThat(after).as("descriptors 10 s after dropping 50 channels, gc run").isEqualTo(before);
    }

    private static void dropAsynchronousChannels(Path path, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            AioAsynchronousFileChannel dropped = AioAsynchronousFileChannel.open(path, READ);
            assertThat(dropped.read(ByteBuffer.allocate(10), 0).get(10, TimeUnit.SECONDS)).isEqualTo(10);
        }
    }
}
