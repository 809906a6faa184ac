package dev.panaio;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.testing.LoopDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Writes the kernel accepts in io_submit but fails, with {@code -errno} in the
 * completion's result: a full disk and a file past its largest size. Kept
 * apart from AioContextTest because it needs a small filesystem of its own.
 */
class AioContextWriteErrorsTest {
    private static final long ENOSPC = aio_abi_h.ENOSPC();
    private static final long EFBIG = aio_abi_h.EFBIG();
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private static long writeAndAwait(AioContext aio, AioFile file, MemorySegment src, long position)
            throws IOException {
        aio.prepareWrite(file, src, position, position);
        aio.submit();
        long[] result = {Long.MIN_VALUE};
        aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> result[0] = res);
        return result[0];
    }

    @Test
    void shouldCompleteWritesToAFullDiskWithEnospc() throws IOException {
        try (LoopDevice loop = LoopDevice.create(dir, 8L * MIB, 512);
             AioContext aio = AioContext.open(4);
             AioFile file = AioFile.open(loop.mountPoint().resolve("filler"), CREATE, WRITE);
             Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(MIB);
            chunk.fill((byte) 0x5a);
            List<Long> results = new ArrayList<>();
            long written = 0;
            for (int i = 0; i < 16 && (results.isEmpty() || results.getLast() > 0); i++) {
                long result = writeAndAwait(aio, file, chunk, (long) i * MIB);
                results.add(result);
                written += Math.max(result, 0);
            }
            // The last write that fits in part returns its short count; the next one the error.
            assertThat(results).as("results of 1 MiB writes").last().isEqualTo(-ENOSPC);
            assertThat(written).isPositive().isLessThan(8L * MIB);
            assertThat(file.size()).isEqualTo(written);
        }
    }

    @Test
    void shouldCompleteAWriteBeyondTheLargestFileSizeWithEfbig() throws IOException {
        // ext4's largest file is 16 TiB with 4 KiB blocks; 2^60 is past it on any block size.
        try (AioContext aio = AioContext.open(4);
             AioFile file = AioFile.open(dir.resolve("huge"), CREATE, WRITE);
             Arena arena = Arena.ofConfined()) {
            assertThat(writeAndAwait(aio, file, arena.allocate(512), 1L << 60)).isEqualTo(-EFBIG);
            assertThat(file.size()).isZero();
        }
    }
}
