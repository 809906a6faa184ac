package dev.panaio;

import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

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
}
