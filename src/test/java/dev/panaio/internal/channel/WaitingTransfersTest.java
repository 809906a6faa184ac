package dev.panaio.internal.channel;

import dev.panaio.AioEngine;
import dev.panaio.AioFileChannel;
import dev.panaio.testing.OnVirtualThread;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link WaitingTransfers} promises the blocking channel, on a channel's
 * own {@link FileIo} over real files: whichever way a transfer goes (the
 * caller's own call, the page cache at once, the pool after a miss, the
 * general path), the caller gets the whole count, its buffer advanced by it,
 * and the file's bytes; and an interrupt that ended a wait always ends as
 * {@link ClosedByInterruptException} with the channel closed.
 */
class WaitingTransfersTest {
    private static final int SEED = 89;
    private static final int FILE_SIZE = 1 << 20;

    @TempDir
    Path dir;

    private static FileIo open(Path path, AioEngine engine) throws Exception {
        return FileIo.open(path, ChannelOptions.parse(Set.of(READ, WRITE)), engine);
    }

    /** Test code given an engine of its own and a channel's {@link FileIo} on a file. */
    @FunctionalInterface
    private interface OnFileIo {
        void run(AioEngine engine, FileIo io) throws Exception;
    }

    /** Runs {@code body} with a fresh engine and a read-write {@link FileIo} on {@code path}, both closed after. */
    private static void onFileIo(Path path, OnFileIo body) throws Exception {
        try (AioEngine engine = AioEngine.open()) {
            FileIo io = open(path, engine);
            try {
                body.run(engine, io);
            } finally {
                io.file().close();
            }
        }
    }

    private static void assertFileBytes(ByteBuffer read, long position) {
        assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(read.flip()), position, SEED)).isEqualTo(-1);
    }

    /**
     * A platform thread's own call, a virtual thread's page-cache hit, its
     * miss (read on the pool), and a heap buffer on a virtual thread (which
     * the inline path does not take: the general path): each the whole count
     * and the file's bytes; -1 at the end of the file.
     */
    @Test
    void shouldReadTheWholeCountWhicheverWayTheReadGoes() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), FILE_SIZE, SEED);
        Files.readAllBytes(path);
        onFileIo(path, (engine, io) -> {
            WaitingTransfers waiting = new WaitingTransfers(io);
            ByteBuffer onPlatform = ByteBuffer.allocateDirect(8192);
            assertThat(waiting.transfer(onPlatform, 4096, true)).as("platform thread").isEqualTo(8192);
            assertFileBytes(onPlatform, 4096);
            assertThat(waiting.transfer(onPlatform.clear(), FILE_SIZE, true)).isEqualTo(-1);

            long[] counts = new long[4];
            ByteBuffer hit = ByteBuffer.allocateDirect(8192);
            ByteBuffer missed = ByteBuffer.allocateDirect(8192);
            ByteBuffer heap = ByteBuffer.allocate(8192);
            OnVirtualThread.run(() -> {
                counts[0] = waiting.transfer(hit, 8192, true);
                PageCache.evict(path);
                counts[1] = waiting.transfer(missed, 65536, true);
                counts[2] = waiting.transfer(heap, 16384, true);
                counts[3] = waiting.transfer(ByteBuffer.allocate(10), FILE_SIZE + 1, true);
            });
            assertThat(counts).containsExactly(8192, 8192, 8192, -1);
            assertFileBytes(hit, 8192);
            assertFileBytes(missed, 65536);
            assertFileBytes(heap, 16384);
            assertThat(engine.stats().inlineMisses()).as("the evicted read went to the pool").isPositive();
        });
    }

    /**
     * A range whose first pages alone are cached, read on a virtual thread:
     * the page cache gives the start at once, the pool the rest, and the
     * caller gets the count of both, as a FileChannel's one read.
     */
    @Test
    void shouldCountWhatWasReadInlineWithTheRestReadOnThePool() throws Exception {
        Path path = TestData.writeFile(dir.resolve("partly"), FILE_SIZE, SEED);
        Files.readAllBytes(path);
        onFileIo(path, (engine, io) -> {
            InlineTransfersTest.warm(io.inline());
            WaitingTransfers waiting = new WaitingTransfers(io);
            ByteBuffer dst = ByteBuffer.allocateDirect(64 << 10);
            PageCache.untilAMiss(path, 16384, () -> { // tried again if the readahead answers the whole range in time
                MemorySegment.ofBuffer(dst.clear()).fill((byte) 0);
                long poolRunsBefore = engine.stats().poolRuns();
                long[] count = new long[1];
                OnVirtualThread.run(() -> count[0] = waiting.transfer(dst, 0, true));
                long poolRuns = engine.stats().poolRuns() - poolRunsBefore;
                assertThat(count[0]).isEqualTo(64 << 10);
                assertThat(dst.position()).isEqualTo(64 << 10);
                assertFileBytes(dst, 0);
                assertThat(poolRuns).as("the rest on the pool").isBetween(0L, 1L);
                return poolRuns == 1;
            });
        });
    }

    /** Writes, one buffer or a vector, from a platform thread (its own call) and a virtual thread (the pool). */
    @Test
    void shouldWriteAndReadVectorsWithEachBufferAdvanced() throws Exception {
        Path path = TestData.writeFile(dir.resolve("vectors"), FILE_SIZE, SEED);
        Path copy = TestData.writeFile(dir.resolve("copy"), 4 * 8192, SEED + 1);
        onFileIo(path, (engine, source) -> {
            FileIo target = open(copy, engine);
            try {
                WaitingTransfers from = new WaitingTransfers(source);
                WaitingTransfers to = new WaitingTransfers(target);
                ByteBuffer[] read = {ByteBuffer.allocateDirect(4096), ByteBuffer.allocate(12288)};
                assertThat(from.transferVector(read, 0, 2, 0, true)).isEqualTo(16384);
                assertThat(read[0].remaining()).isZero();
                assertThat(read[1].remaining()).isZero();

                read[0].flip();
                read[1].flip();
                assertThat(to.transferVector(read, 0, 2, 0, false)).as("gathering write").isEqualTo(16384);
                ByteBuffer tail = ByteBuffer.allocateDirect(16384);
                assertThat(from.transfer(tail, 16384, true)).isEqualTo(16384);
                long[] written = new long[1];
                OnVirtualThread.run(() -> written[0] = to.transfer(tail.flip(), 16384, false));
                assertThat(written[0]).as("a virtual thread's write").isEqualTo(16384);
                assertThat(tail.remaining()).isZero();
            } finally {
                target.file().close();
            }
        });
        byte[] expected = Arrays.copyOf(Files.readAllBytes(path), 4 * 8192);
        assertThat(Arrays.mismatch(Files.readAllBytes(copy), expected)).as("first byte that differs").isEqualTo(-1);
    }

    /**
     * The channel's {@code end} saw no interrupt (the waking thread took the
     * interruptor away first) and reports another thread's close: the caller
     * still gets {@link ClosedByInterruptException}, caused by the interrupt,
     * and the channel is closed.
     */
    @Test
    void shouldCloseTheChannelAndSayInterruptedWhenTheEndSawAnAsynchronousClose() throws Exception {
        Path path = TestData.writeFile(dir.resolve("interrupted"), 4096, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            InterruptedIOException interrupted = new InterruptedIOException("waiting for room");
            assertThatThrownBy(() -> WaitingTransfers.closeByInterrupt(interrupted, () -> {
                throw new AsynchronousCloseException();
            }, channel)).isInstanceOf(ClosedByInterruptException.class).hasCause(interrupted);
            assertThat(channel.isOpen()).isFalse();
        }
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            InterruptedIOException interrupted = new InterruptedIOException("waiting for room");
            assertThatThrownBy(() -> WaitingTransfers.closeByInterrupt(interrupted, () -> { }, channel))
                    .as("an end that reports nothing").isInstanceOf(ClosedByInterruptException.class)
                    .hasCause(interrupted);
            assertThat(channel.isOpen()).isFalse();
        }
    }

    /** The interruptor ran first and closed the channel: its own exception is the one thrown, with the cause. */
    @Test
    void shouldRethrowTheEndsClosedByInterruptWithTheInterruptAsItsCause() throws Exception {
        InterruptedIOException interrupted = new InterruptedIOException("waiting for room");
        ClosedByInterruptException fromEnd = new ClosedByInterruptException();
        Path path = TestData.writeFile(dir.resolve("closed-by-end"), 4096, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            assertThatThrownBy(() -> WaitingTransfers.closeByInterrupt(interrupted, () -> {
                throw fromEnd;
            }, channel)).isSameAs(fromEnd).hasCause(interrupted);
        }
    }
}
