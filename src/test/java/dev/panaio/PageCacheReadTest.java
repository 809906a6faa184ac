package dev.panaio;

import dev.panaio.testing.OnVirtualThread;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.channels.CompletionHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Buffered reads through the page cache: preadv2(RWF_NOWAIT) stops short
 * mid-file when only the first pages of a range are cached, and the channels
 * must not report that short count (a FileChannel read of a regular file
 * returns the full count unless at end of file).
 */
class PageCacheReadTest {
    private static final int SEED = 5;
    private static final int LENGTH = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void shouldReadTheWholeRangeWhenOnlyItsFirstPageIsCached() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ); Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < 5; i++) {
                PageCache.cacheOnlyTheFirst(path, 4096);
                MemorySegment dst = arena.allocate(LENGTH, 4096);
                assertThat(channel.read(dst.asByteBuffer(), 0)).isEqualTo(LENGTH);
                assertThat(TestData.firstMismatch(dst, 0, SEED)).isEqualTo(-1);
                PageCache.cacheOnlyTheFirst(path, 4096);
                ByteBuffer heap = ByteBuffer.allocate(LENGTH);
                assertThat(channel.read(heap, 0)).isEqualTo(LENGTH);
                assertThat(TestData.firstMismatch(MemorySegment.ofArray(heap.array()), 0, SEED)).isEqualTo(-1);
            }
        }
    }

    @Test
    void shouldReadTheWholeRangeAsynchronouslyWhenOnlyItsFirstPageIsCached() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ);
             Arena arena = Arena.ofShared()) {
            for (int i = 0; i < 5; i++) {
                PageCache.cacheOnlyTheFirst(path, 4096);
                MemorySegment dst = arena.allocate(LENGTH, 4096);
                assertThat(channel.readAsync(dst.asByteBuffer(), 0).get(10, TimeUnit.SECONDS)).isEqualTo(LENGTH);
                assertThat(TestData.firstMismatch(dst, 0, SEED)).isEqualTo(-1);
            }
        }
    }

    @Test
    void shouldReturnTheShortCountAtEndOfFile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 10_000, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            ByteBuffer dst = ByteBuffer.allocateDirect(LENGTH);
            assertThat(channel.read(dst, 0)).isEqualTo(10_000);
            assertThat(channel.read(dst.clear(), 10_000)).isEqualTo(-1);
        }
    }

    /**
     * A fresh channel asks the page cache (cachestat) before its reads, and
     * cachestat counts the pages past the end of the file as not cached: those
     * reads must still be answered inline, where the kernel returns 0 or the
     * short count at once, not sent to the pool as misses.
     */
    @Test
    void shouldAnswerReadsAtAndAcrossTheEndOfFileInlineWhileAskingThePageCache() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 10_000, SEED);
        Files.readAllBytes(path); // cached
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ), engine)) {
            OnVirtualThread.run(() -> { // a platform thread makes its own pread, hit or miss
                ByteBuffer dst = ByteBuffer.allocateDirect(LENGTH);
                assertThat(channel.read(dst, 10_000)).isEqualTo(-1);
                assertThat(channel.read(dst.clear(), 1 << 20)).isEqualTo(-1);
                assertThat(channel.read(dst.clear(), 8192)).isEqualTo(10_000 - 8192);
                assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), 8192, SEED)).isEqualTo(-1);
                ByteBuffer heap = ByteBuffer.allocate(8192);
                assertThat(channel.read(heap, 4096)).isEqualTo(10_000 - 4096);
            });
            assertThat(engine.stats().poolRuns()).as("reads sent to the pool").isZero();
            assertThat(engine.stats().inlineHits()).as("reads answered inline").isEqualTo(4);
        }
    }

    /**
     * Once a file's reads hit, they stop asking the page cache: a read whose
     * first pages alone are cached then stops short inline, and the pool reads
     * the rest into the same buffer; the count is the whole range.
     */
    @Test
    void shouldReadTheRestOnThePoolWhenAnUnaskedReadStopsShort() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        Files.readAllBytes(path);
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ), engine)) {
            OnVirtualThread.run(() -> { // a platform thread makes its own pread, hit or miss
                ByteBuffer page = ByteBuffer.allocateDirect(4096);
                for (ByteBuffer dst : new ByteBuffer[] {ByteBuffer.allocateDirect(LENGTH),
                        ByteBuffer.allocate(LENGTH)}) {
                    // Past the reads that ask the page cache first (cachestat), which a miss turns on again: asked,
                    // a partly cached range goes to the pool whole, with no page-cache call to stop short.
                    Files.readAllBytes(path);
                    for (int i = 0; i < 300; i++) {
                        assertThat(channel.read(page.clear(), (long) (i % 256) * 4096)).isEqualTo(4096);
                    }
                    PageCache.untilAMiss(path, 16384, () -> { // tried again if the readahead answers it whole
                        MemorySegment.ofBuffer(dst.clear()).fill((byte) 0);
                        AioEngineStats before = engine.stats();
                        assertThat(channel.read(dst, 0)).isEqualTo(LENGTH);
                        AioEngineStats after = engine.stats();
                        assertThat(dst.position()).isEqualTo(LENGTH);
                        assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), 0, SEED)).isEqualTo(-1);
                        long poolRuns = after.poolRuns() - before.poolRuns();
                        assertThat(poolRuns).as("the rest on the pool").isBetween(0L, 1L);
                        return poolRuns == 1;
                    });
                }
            });
        }
    }

    /**
     * A platform thread waits for the disk whoever makes its read, so it
     * makes it itself, as FileChannel does: hit or miss, no NOWAIT attempt
     * and nothing sent to the pool.
     */
    @Test
    void shouldMakeAPlatformThreadsReadsItselfHitOrMiss() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ), engine)) {
            for (ByteBuffer dst : new ByteBuffer[] {ByteBuffer.allocateDirect(LENGTH), ByteBuffer.allocate(LENGTH)}) {
                PageCache.evict(path);
                assertThat(channel.read(dst, 0)).as("a miss").isEqualTo(LENGTH);
                assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), 0, SEED)).isEqualTo(-1);
                assertThat(channel.read(dst.clear(), 0)).as("a hit").isEqualTo(LENGTH);
                assertThat(channel.read(dst.clear(), 1 << 20)).as("at the end").isEqualTo(-1);
            }
            AioEngineStats stats = engine.stats();
            assertThat(stats.poolRuns()).as("reads sent to the pool").isZero();
            assertThat(stats.inlineHits() + stats.inlineMisses()).as("NOWAIT attempts").isZero();
        }
    }

    /**
     * As the blocking channel's row above, through the asynchronous channel:
     * once the file's reads hit, a read whose first pages alone are cached
     * stops short on the calling thread, and the pool reads the whole range
     * into the same buffer (from its start again): the count and the
     * buffer's position are the whole range, by future and by handler.
     */
    @Test
    void shouldReadTheWholeRangeAsynchronouslyWhenAnUnaskedReadStopsShort() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        Files.readAllBytes(path);
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, Set.of(READ), null, engine)) {
            ByteBuffer page = ByteBuffer.allocateDirect(4096);
            for (boolean handler : new boolean[] {false, true}) {
                // Past the reads that ask the page cache first, which a miss turns on again (see above).
                Files.readAllBytes(path);
                for (int i = 0; i < 300; i++) {
                    assertThat(channel.readAsync(page.clear(), (long) (i % 256) * 4096).get(10, TimeUnit.SECONDS))
                            .isEqualTo(4096);
                }
                ByteBuffer dst = ByteBuffer.allocateDirect(LENGTH);
                PageCache.untilAMiss(path, 16384, () -> { // tried again if the readahead answers it whole
                    MemorySegment.ofBuffer(dst.clear()).fill((byte) 0);
                    long poolRunsBefore = engine.stats().poolRuns();
                    CompletableFuture<Integer> read = new CompletableFuture<>();
                    if (handler) {
                        channel.read(dst, 0, null, new CompletionHandler<Integer, Void>() {
                            @Override
                            public void completed(Integer result, Void attachment) {
                                read.complete(result);
                            }

                            @Override
                            public void failed(Throwable error, Void attachment) {
                                read.completeExceptionally(error);
                            }
                        });
                    } else {
                        channel.readAsync(dst, 0).whenComplete((n, e) -> {
                            if (e != null) {
                                read.completeExceptionally(e);
                            } else {
                                read.complete(n);
                            }
                        });
                    }
                    assertThat(read.get(10, TimeUnit.SECONDS)).as(handler ? "by handler" : "by future")
                            .isEqualTo(LENGTH);
                    long poolRuns = engine.stats().poolRuns() - poolRunsBefore;
                    assertThat(dst.position()).isEqualTo(LENGTH);
                    assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), 0, SEED)).isEqualTo(-1);
                    assertThat(poolRuns).as("the whole range on the pool").isBetween(0L, 1L);
                    return poolRuns == 1;
                });
            }
        }
    }

    /**
     * A page-cache hit through a blocking channel allocates nothing: a direct
     * buffer goes to the kernel by its address, a heap one through the
     * thread's own native memory. Counted with the thread's allocated bytes,
     * over many reads after as many to warm up.
     */
    @Test
    void shouldAllocateNothingForACachedRead() throws Exception {
        assumeTrue(threadAllocatedBytes() >= 0, "this JVM does not count a thread's allocated bytes");
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        Files.readAllBytes(path);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            for (ByteBuffer dst : new ByteBuffer[] {ByteBuffer.allocateDirect(1024), ByteBuffer.allocate(1024)}) {
                // Until the JIT has compiled the path (escape analysis is C2's): a round that allocates less
                // than a byte per read, within a minute of rounds of 10,000 reads (a loaded machine starves the
                // compiler threads: 100 rounds once ended before C2 had compiled it, at 40 B a read). One object
                // per read fails every round.
                int reads = 10_000;
                long allocated = Long.MAX_VALUE;
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
                while (allocated >= reads && System.nanoTime() < deadline) {
                    long before = threadAllocatedBytes();
                    long sum = 0;
                    for (int i = 0; i < reads; i++) {
                        sum += channel.read(dst.clear(), (i * 1024L) & ((1 << 20) - 1));
                    }
                    allocated = threadAllocatedBytes() - before;
                    assertThat(sum).isEqualTo(reads * 1024L);
                }
                assertThat(allocated).as("bytes allocated by %d reads into a %s buffer", reads,
                        dst.isDirect() ? "direct" : "heap").isLessThan(reads);
            }
        }
    }

    /**
     * A cached read through the asynchronous channel's future makes no
     * request object: the page cache's answer comes back as a completed
     * future (the future and the boxed count, 40 bytes here), not through a
     * completion, a request and a memory segment (208 bytes before); into
     * an AioArena's memory, with the segment that holds the arena for the
     * call.
     */
    @Test
    void shouldAllocateOnlyTheCompletedFutureForACachedAsynchronousRead() throws Exception {
        assumeTrue(threadAllocatedBytes() >= 0, "this JVM does not count a thread's allocated bytes");
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        Files.readAllBytes(path);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ);
             AioArena arena = AioArena.open()) {
            // A direct buffer from allocateDirect: the future and the count. One over a panaio arena: its memory
            // segment too, which the call holds. A request and its completion on top fail either.
            ByteBuffer[] buffers = {ByteBuffer.allocateDirect(1024), arena.allocate(1024, 8).asByteBuffer()};
            long[] bytesPerRead = {64, 112};
            for (int b = 0; b < buffers.length; b++) {
                ByteBuffer dst = buffers[b];
                int reads = 10_000;
                long bound = bytesPerRead[b] * reads;
                long allocated = Long.MAX_VALUE;
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1); // until the JIT has compiled it
                while (allocated >= bound && System.nanoTime() < deadline) {
                    long before = threadAllocatedBytes();
                    long sum = 0;
                    for (int i = 0; i < reads; i++) {
                        sum += channel.readAsync(dst.clear(), (i * 1024L) & ((1 << 20) - 1)).join();
                    }
                    allocated = threadAllocatedBytes() - before;
                    assertThat(sum).isEqualTo(reads * 1024L);
                }
                assertThat(allocated).as("bytes allocated by %d cached reads through futures into %s", reads,
                        b == 0 ? "allocateDirect memory" : "an AioArena's memory").isLessThan(bound);
            }
        }
    }

    /**
     * A default-pool handler that reads on from its own completion (a handler
     * chain, which one pool thread runs while the page cache answers) makes
     * per read only the handler's call (the handler, its attachment and the
     * count) and the boxed count: not a completion object (88 bytes a read
     * with one). Counted on the pool thread, from the chain's first handler to
     * its last. A round the pool moved to another thread (its watcher hands a
     * chain on when a thread is held up, as a descheduled one on a loaded
     * machine is) measures nothing and is counted apart, not as over the
     * bound; if every round was moved, the test is skipped.
     */
    @Test
    void shouldAllocateOnlyTheHandlerCallForACachedReadInAHandlerChain() throws Exception {
        assumeTrue(threadAllocatedBytes() >= 0, "this JVM does not count a thread's allocated bytes");
        Path path = TestData.writeFile(dir.resolve("data"), 1 << 20, SEED);
        Files.readAllBytes(path);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ)) {
            ByteBuffer dst = ByteBuffer.allocateDirect(1024);
            int reads = 1000; // fewer than a pool thread runs in a row before it hands the chain on
            long bound = 64L * reads;
            long moved = -1; // a round's result when the chain did not end on the thread it began on
            long allocated = Long.MAX_VALUE; // the last round that ran on one thread
            int measuredRounds = 0;
            int movedRounds = 0;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1); // until the JIT has compiled it
            while (allocated >= bound && System.nanoTime() < deadline) {
                CompletableFuture<Long> chain = new CompletableFuture<>();
                channel.read(dst.clear(), 0, null, new CompletionHandler<Integer, Void>() {
                    private int done;
                    private long sum;
                    private Thread thread;
                    private long before;

                    @Override
                    public void completed(Integer n, Void attachment) {
                        try {
                            if (thread == null) {
                                thread = Thread.currentThread();
                                before = threadAllocatedBytes();
                            }
                            sum += n;
                            if (++done < reads) {
                                channel.read(dst.clear(), (done * 1024L) & ((1 << 20) - 1), null, this);
                                return;
                            }
                            long after = threadAllocatedBytes();
                            assertThat(sum).isEqualTo(reads * 1024L);
                            chain.complete(Thread.currentThread() == thread ? after - before : moved);
                        } catch (Throwable t) {
                            chain.completeExceptionally(t);
                        }
                    }

                    @Override
                    public void failed(Throwable error, Void attachment) {
                        chain.completeExceptionally(error);
                    }
                });
                long round = chain.get(1, TimeUnit.MINUTES);
                if (round == moved) {
                    movedRounds++;
                } else {
                    measuredRounds++;
                    allocated = round;
                }
            }
            assumeTrue(measuredRounds > 0, "the pool moved all " + movedRounds + " chains to another thread within"
                    + " the minute (its threads held up on a loaded machine): no round measured one thread");
            assertThat(allocated).as("bytes allocated by a chain of %d cached reads through a handler"
                    + " (the last of %d rounds on one thread; %d moved)", reads, measuredRounds, movedRounds)
                    .isLessThan(bound);
        }
    }

    /** The calling thread's allocated bytes (HotSpot's ThreadMXBean attribute), or -1 where not counted. */
    private static long threadAllocatedBytes() throws Exception {
        Object bytes = ManagementFactory.getPlatformMBeanServer()
                .getAttribute(new ObjectName("java.lang:type=Threading"), "CurrentThreadAllocatedBytes");
        return bytes instanceof Long n ? n : -1;
    }
}
