package dev.panaio;

import dev.panaio.testing.OnVirtualThread;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * AioFileChannel's buffered reads and writes: cached reads inline (preadv2 with RWF_NOWAIT), the others
 * on the pool, and no disk read started on the calling thread.
 */
class AioFileChannelBufferedTest {
    private static final int SEED = 1;

    @TempDir
    Path dir;

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
            OnVirtualThread.run(() -> { // a platform thread makes its own pread, with no NOWAIT attempt
                ByteBuffer dst = ByteBuffer.allocateDirect(4096);
                for (int i = 0; i < 8; i++) {
                    assertThat(zero.read(dst.clear(), 0)).isEqualTo(4096);
                }
            });
            assertThat(engine.stats().poolRuns()).as("reads sent to the pool").isZero();
            assertThat(engine.stats().inlineHits()).as("reads answered inline").isEqualTo(8);
        }
    }

    @Test
    void shouldStartNoDiskReadOnTheCallingThreadWhenABufferedReadMissesThePageCache() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/thread-self/io")), "no per-thread I/O accounting here");
        int reads = 16;
        Path path = TestData.writeFile(dir.resolve("misses"), reads << 18, SEED);
        // The thread is charged for every read bio it submits, also those of loading a class whose file is not
        // in the page cache (heavy I/O from another process can evict it): 72 KiB were charged to the first miss
        // once the build's class files were evicted. The same misses on another file first load every class the
        // path needs, so that the count below is the misses' own.
        readMissesOnce(TestData.writeFile(dir.resolve("warm-up"), 2 << 18, SEED));
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

    /** Two buffered reads that miss the page cache, through a channel and an engine of their own. */
    private static void readMissesOnce(Path path) throws Exception {
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, Set.of(READ), null,
                     engine)) {
            PageCache.evict(path);
            for (int i = 0; i < 2; i++) {
                assertThat(channel.read(ByteBuffer.allocateDirect(4096), (long) i << 18).get(30, TimeUnit.SECONDS))
                        .isEqualTo(4096);
            }
            assertThat(engine.stats().poolRuns()).as("warm-up reads that missed").isEqualTo(2);
        }
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
}
