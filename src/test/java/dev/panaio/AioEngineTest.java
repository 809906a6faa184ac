package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AioEngineTest {
    private static final int SEED = 11;

    @TempDir
    Path dir;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void closeArena() {
        arena.close();
    }

    @Test
    void shouldReadConcurrentlyFromManyThreadsWithEveryFutureCompletedOnce() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 4 << 20, SEED);
        try (AioEngine engine = AioEngine.builder().capacity(64).build();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            int reads = 4000;
            MemorySegment buffers = arena.allocate(reads * 4096L, 4096);
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            List<java.util.concurrent.Future<CompletableFuture<Integer>>> submitted = new ArrayList<>();
            for (int i = 0; i < reads; i++) {
                int n = i;
                submitted.add(threads.submit(() -> engine.read(file, buffers.asSlice(n * 4096L, 4096),
                        (n % 1024) * 4096L)));
            }
            for (var f : submitted) {
                futures.add(f.get());
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            for (int i = 0; i < reads; i++) {
                assertThat(futures.get(i).join()).isEqualTo(4096);
                assertThat(TestData.firstMismatch(buffers.asSlice(i * 4096L, 4096), (i % 1024) * 4096L, SEED))
                        .isEqualTo(-1);
            }
            assertThat(engine.outstanding()).isZero();
        }
    }

    @Test
    void shouldWriteThenFsyncThroughTheEngine() throws Exception {
        Path path = TestData.writeFile(dir.resolve("w"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, WRITE)) {
            MemorySegment src = arena.allocate(1000);
            TestData.fill(src, 0, SEED + 1);
            assertThat(engine.write(file, src, 0).get(10, TimeUnit.SECONDS)).isEqualTo(1000);
            assertThat(engine.fsync(file).get(10, TimeUnit.SECONDS)).isZero();
            assertThat(engine.fdatasync(file).get(10, TimeUnit.SECONDS)).isZero();
            MemorySegment dst = arena.allocate(1000);
            assertThat(engine.read(file, dst, 0).get(10, TimeUnit.SECONDS)).isEqualTo(1000);
            assertThat(TestData.firstMismatch(dst, 0, SEED + 1)).isEqualTo(-1);
        }
    }

    @Test
    void shouldWriteAndReadAVectorOfAlignedArenaBuffersOnADirectFileAsOneKernelRequestEach() throws Exception {
        Path path = TestData.writeFile(dir.resolve("v"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioArena aio = AioArena.open();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment[] srcs = {aio.allocate(4096, 4096), aio.allocate(8192, 4096), aio.allocate(4096, 4096)};
            long at = 8192;
            for (MemorySegment src : srcs) {
                TestData.fill(src, at, SEED + 1);
                at += src.byteSize();
            }
            long before = engine.stats().requestsSubmitted();
            assertThat(engine.writeVectored(file, srcs, 8192).get(10, TimeUnit.SECONDS)).isEqualTo(16384);
            assertThat(engine.stats().requestsSubmitted() - before).as("kernel requests for one vectored write")
                    .isEqualTo(1);

            MemorySegment[] dsts = {aio.allocate(4096, 4096), aio.allocate(4096, 4096), aio.allocate(8192, 4096)};
            before = engine.stats().requestsSubmitted();
            assertThat(engine.readVectored(file, dsts, 8192, RequestOptions.NONE).get(10, TimeUnit.SECONDS))
                    .isEqualTo(16384);
            assertThat(engine.stats().requestsSubmitted() - before).as("kernel requests for one vectored read")
                    .isEqualTo(1);
            at = 8192;
            for (MemorySegment dst : dsts) {
                assertThat(TestData.firstMismatch(dst, at, SEED + 1)).as("buffer at %d", at).isEqualTo(-1);
                at += dst.byteSize();
            }
            assertThat(engine.stats().bounceCopiedBytes()).as("AioArena memory goes in place").isZero();
        }
    }

    @Test
    void shouldBounceAVectorOfACallersArenaAndStopShortAtEndOfFile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("eof"), 10_000, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, WRITE)) {
            // Odd sizes on a buffered file: the request goes through one bounce of the total, copied back in order.
            MemorySegment[] dsts = {arena.allocate(3000), arena.allocate(5001), arena.allocate(4000)};
            dsts[2].fill((byte) 0x5a);
            long before = engine.stats().requestsSubmitted();
            assertThat(engine.readVectored(file, dsts, 100).get(10, TimeUnit.SECONDS)).isEqualTo(9900);
            assertThat(engine.stats().requestsSubmitted() - before).isEqualTo(1);
            assertThat(engine.stats().bounceCopiedBytes()).isEqualTo(12001);
            assertThat(TestData.firstMismatch(dsts[0], 100, SEED)).isEqualTo(-1);
            assertThat(TestData.firstMismatch(dsts[1], 3100, SEED)).isEqualTo(-1);
            assertThat(TestData.firstMismatch(dsts[2].asSlice(0, 1899), 8101, SEED)).isEqualTo(-1);
            assertThat(dsts[2].get(java.lang.foreign.ValueLayout.JAVA_BYTE, 1899)).as("past end of file, untouched")
                    .isEqualTo((byte) 0x5a);
            assertThat(engine.readVectored(file, dsts, 10_000).get(10, TimeUnit.SECONDS)).as("at end of file")
                    .isZero();

            MemorySegment[] srcs = {arena.allocate(7), arena.allocate(1), arena.allocate(4092)};
            TestData.fill(srcs[0], 20_000, SEED + 2);
            TestData.fill(srcs[1], 20_007, SEED + 2);
            TestData.fill(srcs[2], 20_008, SEED + 2);
            assertThat(engine.writeVectored(file, srcs, 20_000).get(10, TimeUnit.SECONDS)).isEqualTo(4100);
            MemorySegment back = arena.allocate(4100);
            assertThat(engine.read(file, back, 20_000).get(10, TimeUnit.SECONDS)).isEqualTo(4100);
            assertThat(TestData.firstMismatch(back, 20_000, SEED + 2)).isEqualTo(-1);
        }
    }

    @Test
    void shouldHoldEveryAioArenaOfAVectorUntilItsReadCompletes() throws Exception {
        Path path = TestData.writeFile(dir.resolve("held"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.builder().capacity(1).build();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); EventFd gate = EventFd.open();
             AioArena first = AioArena.open()) {
            AioArena second = AioArena.open();
            CompletableFuture<Integer> poll = engine.poll(gate, 1); // holds the engine's one slot until written
            MemorySegment[] dsts = {first.allocate(4096, 4096), second.allocate(4096, 4096)};
            CompletableFuture<Integer> read = engine.readVectored(file, dsts, 0);
            assertThatThrownBy(second::close).as("the second buffer's arena, while its read waits")
                    .isInstanceOf(IllegalStateException.class);
            assertThat(first.inFlight()).isEqualTo(1);
            gate.write(1);
            assertThat(poll.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(8192);
            assertThat(TestData.firstMismatch(dsts[1], 4096, SEED)).isEqualTo(-1);
            assertThat(first.inFlight()).isZero();
            second.close(); // given back once the read completed
        }
    }

    @Test
    void shouldHandADirectWriteThatWouldBlockInIoSubmitToThePoolAndLandItsData() throws Exception {
        Path path = Files.createFile(dir.resolve("extending"));
        try (AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment src = arena.allocate(8192, 4096);
            TestData.fill(src, 0, SEED + 3);
            // Extending the file needs a block allocation: with the RWF_NOWAIT the engine adds, ext4 answers EAGAIN
            // instead of blocking io_submit, and the write is made on the pool, once.
            assertThat(engine.write(file, src, 0).get(10, TimeUnit.SECONDS)).isEqualTo(8192);
            assertThat(engine.stats().poolRuns()).as("writes handed to the pool").isEqualTo(1);
            assertThat(engine.stats().requestsCompleted()).isEqualTo(1);
            // An overwrite of written blocks needs no allocation: the kernel takes it without blocking.
            assertThat(engine.write(file, src, 0).get(10, TimeUnit.SECONDS)).isEqualTo(8192);
            assertThat(engine.stats().poolRuns()).as("writes handed to the pool").isEqualTo(1);
            MemorySegment dst = arena.allocate(8192, 4096);
            assertThat(engine.read(file, dst, 0).get(10, TimeUnit.SECONDS)).isEqualTo(8192);
            assertThat(TestData.firstMismatch(dst, 0, SEED + 3)).isEqualTo(-1);
        }
        assertThat(Files.size(path)).isEqualTo(8192);
    }

    @Test
    void shouldWriteDirectOnTmpfsWhoseIoSubmitRefusesNowait() throws Exception {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm here");
        Path path = Files.createTempFile(shm, "panaio", ".dat");
        try (AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment src = arena.allocate(4096, 4096);
            for (int i = 0; i < 3; i++) {
                TestData.fill(src, i * 4096L, SEED + 4);
                // io_submit refuses the NOWAIT the engine adds (EOPNOTSUPP): the write goes again without it.
                assertThat(engine.write(file, src, i * 4096L).get(10, TimeUnit.SECONDS)).isEqualTo(4096);
            }
            assertThat(engine.stats().poolRuns()).isZero();
            assertThat(engine.stats().requestsCompleted()).as("one refusal, then never NOWAIT again").isEqualTo(3);
            MemorySegment dst = arena.allocate(3 * 4096, 4096);
            assertThat(engine.read(file, dst, 0).get(10, TimeUnit.SECONDS)).isEqualTo(3 * 4096);
            assertThat(TestData.firstMismatch(dst, 0, SEED + 4)).isEqualTo(-1);
        } catch (DirectIoUnsupportedException e) {
            assumeTrue(false, "tmpfs here has no O_DIRECT: " + e.getMessage());
        } finally {
            Files.deleteIfExists(path);
        }
    }

    @Test
    void shouldDeliverKernelErrorsToTheRequestsFuture() throws Exception {
        Path path = TestData.writeFile(dir.resolve("e"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ)) {
            // A read of a directory: the kernel rejects it inside io_submit (EINVAL).
            try (AioFile directory = AioFile.open(dir, READ)) {
                CompletableFuture<Integer> failed = engine.read(directory, arena.allocate(512), 0);
                assertThatThrownBy(() -> failed.get(10, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(AioException.class)
                        .hasMessageContaining("EINVAL");
            }
            assertThat(engine.read(file, arena.allocate(512), 0).get(10, TimeUnit.SECONDS)).isEqualTo(512);
        }
    }

    @Test
    void shouldCompleteAPollWhenTheEventFdBecomesReadable() throws Exception {
        try (AioEngine engine = AioEngine.open(); EventFd ready = EventFd.open()) {
            CompletableFuture<Integer> poll = engine.poll(ready, 1);
            Thread.sleep(50);
            assertThat(poll).isNotDone();
            ready.write(1);
            assertThat(poll.get(10, TimeUnit.SECONDS) & 1).isEqualTo(1);
        }
    }

    @Test
    void shouldRejectBadRequestsAtOnceInTheCallingThread() throws IOException {
        Path path = TestData.writeFile(dir.resolve("bad"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            // Misalignment is an I/O error (as the JDK reports it): the future has already failed on return.
            assertThat(engine.read(file, arena.allocate(4096, 4096), 100)).isCompletedExceptionally()
                    .failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOf(MisalignedIoException.class)
                    .withMessageContaining("multiple of " + file.alignment().offset());
            assertThatThrownBy(() -> engine.read(file, MemorySegment.ofArray(new byte[4096]), 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("native memory");
            assertThatThrownBy(() -> engine.poll(file, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> AioEngine.builder().threads(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("threads must be between 1 and 64, not 0");
        }
    }

    // ------------------------------------------------------ issue 8, section 4

    @Test
    void shouldRefuseToCloseTheSharedEngineAndKeepServingIt() throws Exception {
        Path path = TestData.writeFile(dir.resolve("shared"), 1 << 16, SEED);
        AioEngine shared = AioEngine.shared();
        assertThatThrownBy(shared::close).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("shared AioEngine lives as long as the process")
                .hasMessageContaining("AioEngine.open()");
        assertThat(shared.isClosed()).isFalse();
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) { // opened later, on the shared engine
            assertThat(channel.read(ByteBuffer.allocate(100), 0)).isEqualTo(100);
        }
        try (AioFile file = AioFile.open(path, READ)) {
            assertThat(shared.read(file, arena.allocate(100), 0).get(10, TimeUnit.SECONDS)).isEqualTo(100);
        }
    }

    @Test
    void shouldCloseAClosedFilesDescriptorWhileTheEngineSleeps() throws Exception {
        Path path = TestData.writeFile(dir.resolve("pinned"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open()) {
            AioFile file = AioFile.open(path, READ);
            // Several reads, one after another: the engine's context pins the file it last submitted for.
            for (int i = 0; i < 4; i++) {
                assertThat(engine.read(file, arena.allocate(512), i * 512L).get(10, TimeUnit.SECONDS)).isEqualTo(512);
            }
            assertThat(descriptorsOf(path)).as("descriptors of %s while open", path).isEqualTo(1);
            file.close(); // the engine is asleep now, or soon: nothing wakes it
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (descriptorsOf(path) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(descriptorsOf(path)).as("descriptors of %s after close(), the engine asleep", path).isZero();
            // and the engine still serves the next file
            try (AioFile again = AioFile.open(path, READ)) {
                assertThat(engine.read(again, arena.allocate(512), 0).get(10, TimeUnit.SECONDS)).isEqualTo(512);
            }
        }
    }

    private static long descriptorsOf(Path path) throws IOException {
        String target = path.toAbsolutePath().toString();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals(target);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void shouldDeliverPoolCompletionsOffThePoolSoThatHandlersMayWaitForIt() throws Exception {
        // On tmpfs every buffered read goes to the blocking pool (no RWF_NOWAIT). Each handler and each future's
        // dependent then makes a blocking read, which needs the pool: run on the pool's one thread, it would wait
        // for itself. The JDK's channels, beside, do the same and finish.
        Path file = tmpfsFile();
        AioEngine engine = AioEngine.builder().blockingThreads(1).build();
        int finished;
        try (AioAsynchronousFileChannel async = AioAsynchronousFileChannel.open(file, Set.of(READ), null, engine);
             AioFileChannel blocking = AioFileChannel.open(file, Set.of(READ), engine)) {
            finished = nestedBlockingReads(async, blocking, true);
        } finally {
            Files.deleteIfExists(file);
        }
        // Deadlocked, the engine is left open: close() waits for its pool, whose thread waits for itself.
        assertThat(finished).as("panaio, handlers and futures").isEqualTo(16);
        engine.close();
        Path jdkFile = tmpfsFile();
        try (AsynchronousFileChannel async = AsynchronousFileChannel.open(jdkFile, READ);
             FileChannel blocking = FileChannel.open(jdkFile, READ)) {
            assertThat(nestedBlockingReads(async, blocking, false)).as("the JDK's, handlers").isEqualTo(8);
        } finally {
            Files.deleteIfExists(jdkFile);
        }
    }

    static Path tmpfsFile() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm (tmpfs) here");
        return TestData.writeFile(Files.createTempFile(shm, "panaio", ".dat"), 1 << 16, SEED);
    }

    /**
     * 8 handlers, and with {@code futures} 8 dependents of panaio's futures too, each doing a blocking read:
     * how many of those reads finished within 20 s.
     */
    private static int nestedBlockingReads(AsynchronousFileChannel async, FileChannel blocking, boolean futures)
            throws InterruptedException {
        AtomicInteger done = new AtomicInteger();
        CountDownLatch all = new CountDownLatch(futures ? 16 : 8);
        for (int i = 0; i < 8; i++) {
            long position = i * 512L;
            async.read(ByteBuffer.allocate(512), position, null, new CompletionHandler<Integer, Void>() {
                @Override
                public void completed(Integer n, Void a) {
                    blockingRead(blocking, position, done);
                    all.countDown();
                }

                @Override
                public void failed(Throwable error, Void a) {
                    all.countDown();
                }
            });
            if (futures) {
                ((AioAsynchronousFileChannel) async).readAsync(ByteBuffer.allocate(512), position).thenRun(() -> {
                    blockingRead(blocking, position, done);
                    all.countDown();
                });
            }
        }
        all.await(20, TimeUnit.SECONDS);
        return done.get();
    }

    private static void blockingRead(FileChannel channel, long position, AtomicInteger done) {
        try {
            if (channel.read(ByteBuffer.allocate(512), position) == 512) {
                done.incrementAndGet();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
