package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.ChildJvm.Outcome;
import dev.panaio.testing.OpenDescriptors;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import dev.panaio.testing.child.CloseSharedEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 8, §4: an engine never holds what its users closed, never deadlocks on
 * its own pool or on another engine, cannot be closed for everyone through
 * {@link AioEngine#shared()}, and has stopped writing every buffer when
 * {@link AioEngine#close()} returns. Engines that a test may leave deadlocked
 * are its own and are closed on a daemon thread, so a failure here cannot hang
 * the rest of the suite.
 */
class AioEngineIsolationTest {
    private static final int SEED = 13;

    @TempDir
    Path dir;

    @Test
    void shouldCloseTheDescriptorOfAFileAsSoonAsItIsClosedWhileTheEngineIdles() throws Exception {
        Path path = TestData.writeFile(dir.resolve("f"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); Arena arena = Arena.ofShared()) {
            AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
            DirectAlignment alignment = file.alignment();
            long length = Math.max(4096, alignment.offset());
            MemorySegment buffer = arena.allocate(length, Math.max(4096, alignment.memory()));
            assertThat(engine.read(file, buffer, 0).get(10, TimeUnit.SECONDS)).isEqualTo((int) length);
            file.close(); // the engine now sleeps: nothing else is submitted to it
            int left = OpenDescriptors.awaitOn(path, n -> n == 0, false, 10_000);
            assertThat(left).as("descriptors on the file 10 s after AioFile.close(), the engine idle").isZero();
        }
    }

    @Test
    void shouldLetPoolCompletedHandlersDoBlockingReadsOnTmpfs() throws Exception {
        Path path = tmpfsFile();
        AioEngine engine = AioEngine.builder().blockingThreads(4).build();
        boolean finished = false;
        try (AioAsynchronousFileChannel async = AioAsynchronousFileChannel.open(path, Set.of(READ), null, engine);
             AioFileChannel blocking = AioFileChannel.open(path, Set.of(READ), engine)) {
            finished = handlersDoingBlockingReadsFinish(async, blocking);
            assertThat(finished).as("8 handlers each doing a blocking read finished within 10 s").isTrue();
        } finally {
            Files.deleteIfExists(path);
            closeEventually(engine, finished);
        }
    }

    @Test
    void shouldLetHandlersDoBlockingReadsOnTmpfsWithTheJdksChannels() throws Exception {
        Path path = tmpfsFile();
        try (AsynchronousFileChannel async = AsynchronousFileChannel.open(path, Set.of(READ), null);
             FileChannel blocking = FileChannel.open(path, READ)) {
            assertThat(handlersDoingBlockingReadsFinish(async, blocking)).as("the JDK's baseline").isTrue();
        } finally {
            Files.deleteIfExists(path);
        }
    }

    /** The case: tmpfs, where every buffered read of panaio's channels goes to the blocking pool. */
    private static Path tmpfsFile() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "needs a writable tmpfs at /dev/shm");
        return TestData.writeFile(shm.resolve("panaio-issue8-" + UUID.randomUUID()), 1 << 20, SEED);
    }

    private static boolean handlersDoingBlockingReadsFinish(AsynchronousFileChannel async, FileChannel blocking)
            throws InterruptedException {
        int handlers = 8;
        CountDownLatch done = new CountDownLatch(handlers);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < handlers; i++) {
            long position = 4096L * i;
            async.read(ByteBuffer.allocate(4096), position, null, new CompletionHandler<Integer, Void>() {
                @Override
                public void completed(Integer result, Void attachment) {
                    try {
                        blocking.read(ByteBuffer.allocate(4096), position + 65536);
                    } catch (IOException | RuntimeException e) {
                        failure.compareAndSet(null, e);
                    }
                    done.countDown();
                }

                @Override
                public void failed(Throwable error, Void attachment) {
                    failure.compareAndSet(null, error);
                    done.countDown();
                }
            });
        }
        boolean finished = done.await(10, TimeUnit.SECONDS);
        assertThat(failure.get()).isNull();
        return finished;
    }

    @Test
    void shouldRefuseToCloseTheSharedEngineAndKeepServingReads() throws Exception {
        // In a JVM of its own: on today's main this closes the shared engine for good.
        Path path = TestData.writeFile(dir.resolve("f"), 1 << 16, SEED);
        Outcome child = ChildJvm.onClassPath(CloseSharedEngine.class, List.of("--enable-native-access=ALL-UNNAMED"),
                path.toString());
        assertThat(child.exitCode()).as("%s", child).isZero();
        assertThat(child.value("closeThrew")).as("%s", child).isEqualTo(UnsupportedOperationException.class.getName());
        assertThat(child.value("sharedClosed")).isEqualTo("false");
        assertThat(child.value("read")).as("%s", child).isEqualTo("4096");
        assertThat(child.value("asyncRead")).as("%s", child).isEqualTo("4096");
    }

    @Test
    void shouldHaveStoppedWritingEveryBufferWhenCloseReturns() throws Exception {
        // Buffered reads of a file evicted from the page cache: RWF_NOWAIT says EAGAIN, and the engine's one pool
        // thread reads. The reads are 4 MiB apart, so that readahead for one does not bring in the next. The first
        // read's handler holds back whatever thread runs it for a second, so that the other reads are still
        // queued or running in the pool when close() is called.
        int reads = 8;
        int size = 64 << 10;
        long spacing = 4 << 20;
        Path path = TestData.writeFile(dir.resolve("evicted"), (reads + 1) * spacing, SEED);
        PageCache.evict(path);
        ByteBuffer buffer = ByteBuffer.allocateDirect(reads * size);
        AioEngine engine = AioEngine.builder().blockingThreads(1).build();
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, Set.of(READ), null, engine)) {
            CountDownLatch release = new CountDownLatch(1);
            Thread initiator = Thread.currentThread();
            channel.read(ByteBuffer.allocateDirect(size), 0, null, new CompletionHandler<Integer, Void>() {
                @Override
                public void completed(Integer result, Void attachment) {
                    if (Thread.currentThread() != initiator) {
                        try {
                            release.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }

                @Override
                public void failed(Throwable error, Void attachment) {
                }
            });
            List<CompletableFuture<Integer>> pending = new ArrayList<>();
            for (int i = 0; i < reads; i++) {
                pending.add(channel.readAsync(buffer.slice(i * size, size), (i + 1) * spacing));
            }
            Thread releaser = new Thread(() -> {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ignored) {
                    // release at once
                }
                release.countDown();
            });
            releaser.start();
            assertTimeoutPreemptively(Duration.ofSeconds(20), engine::close);
            // What close() promises is that nothing writes into a buffer once it returns; a future whose read the
            // pool finished is completed by a delivery thread, which on a loaded machine may run after close()
            // returns (seen once in a full run beside two other builds), so each is only waited for below.
            ByteBuffer atClose = ByteBuffer.allocateDirect(reads * size).put(buffer.duplicate().clear()).flip();
            release.countDown();
            for (CompletableFuture<Integer> read : pending) {
                try {
                    read.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException failedIsFine) {
                    // failed by close(): fine, as long as it had stopped writing
                }
            }
            Thread.sleep(100);
            assertThat(buffer.duplicate().clear().mismatch(atClose))
                    .as("first byte of the buffers written after close() returned").isEqualTo(-1);
        }
    }

    @Test
    void shouldNotDeadlockWhenTwoEnginesSubmitToEachOtherFromTheirCallbacks() throws Exception {
        Path path = TestData.writeFile(dir.resolve("f"), 1 << 20, SEED);
        AioEngine first = AioEngine.builder().capacity(1).maxPending(1).build();
        AioEngine second = AioEngine.builder().capacity(1).maxPending(1).build();
        boolean finished = false;
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); Arena arena = Arena.ofShared()) {
            DirectAlignment alignment = file.alignment();
            long length = Math.max(4096, alignment.offset());
            long memoryAlignment = Math.max(4096, alignment.memory());
            int chains = 64;
            int hops = 50;
            CountDownLatch done = new CountDownLatch(2 * chains);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread starter = new Thread(() -> {
                for (int i = 0; i < chains; i++) {
                    hop(first, second, file, arena.allocate(length, memoryAlignment), hops, done, failure);
                    hop(second, first, file, arena.allocate(length, memoryAlignment), hops, done, failure);
                }
            });
            starter.setDaemon(true);
            starter.start();
            finished = done.await(20, TimeUnit.SECONDS);
            assertThat(failure.get()).isNull();
            assertThat(finished).as("%d chains of %d reads hopping between two engines finished within 20 s",
                    2 * chains, hops).isTrue();
        } finally {
            closeEventually(first, finished);
            closeEventually(second, finished);
        }
    }

    /** Reads on {@code from}; its callback, on {@code from}'s thread, submits the next read to {@code to}. */
    private static void hop(AioEngine from, AioEngine to, AioFile file, MemorySegment buffer, int remaining,
                            CountDownLatch done, AtomicReference<Throwable> failure) {
        from.read(file, buffer, 0).whenComplete((n, error) -> {
            if (error != null) {
                failure.compareAndSet(null, error);
                done.countDown();
            } else if (remaining == 0) {
                done.countDown();
            } else {
                hop(to, from, file, buffer, remaining - 1, done, failure);
            }
        });
    }

    /** Closes an engine that may be deadlocked without making the test wait for it. */
    private static void closeEventually(AioEngine engine, boolean healthy) {
        if (healthy) {
            engine.close();
            return;
        }
        Thread closer = new Thread(engine::close, "close-possibly-deadlocked-engine");
        closer.setDaemon(true);
        closer.start();
    }
}
