package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.testing.FailingBlockDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A block device that fails I/O: the kernel accepts the request in io_submit
 * and reports the device's error in its completion. Each level must hand the
 * error to the request's caller, by name, and carry on: the context, the
 * engine and the channel stay usable for the requests that can succeed.
 * EIO comes from device-mapper's error target where the kernel has
 * device-mapper; a loop device whose backing store runs out gives the error
 * its driver reports. (ENOSPC and EFBIG from a filesystem are in
 * AioContextWriteErrorsTest.)
 */
class DeviceErrorTest {
    private static final long EIO = aio_abi_h.EIO();
    private static final long ENOSPC = aio_abi_h.ENOSPC();
    private static final int MIB = 1 << 20;
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    @Test
    void shouldCompleteReadsAndWritesOfFailingSectorsWithEioAtEveryLevel() throws Exception {
        try (FailingBlockDevice device = FailingBlockDevice.withErrorSectors(MIB, MIB);
             Arena arena = Arena.ofShared()) {
            long bad = device.goodBytes();
            // AioContext: one batch with good and bad requests; each gets its own result.
            try (AioContext aio = AioContext.open(8);
                 AioFile file = AioFile.open(device.path(), READ, WRITE, ExtendedOpenOption.DIRECT)) {
                MemorySegment buffers = arena.allocate(4L * BLOCK, BLOCK);
                aio.prepareRead(file, buffers.asSlice(0, BLOCK), 0, 0);
                aio.prepareRead(file, buffers.asSlice(BLOCK, BLOCK), bad, 1);
                aio.prepareWrite(file, buffers.asSlice(2 * BLOCK, BLOCK), bad + BLOCK, 2);
                aio.prepareRead(file, buffers.asSlice(3 * BLOCK, BLOCK), BLOCK, 3);
                aio.submit();
                Map<Long, Long> results = awaitAll(aio, 4);
                assertThat(results).containsEntry(0L, (long) BLOCK).containsEntry(1L, -EIO)
                        .containsEntry(2L, -EIO).containsEntry(3L, (long) BLOCK);
            }
            assertEngineAndChannelReport(device, arena, bad, true, EIO);
        }
    }

    @Test
    void shouldCompleteWritesThatTheDeviceFailsWithItsErrorAtEveryLevel() throws Exception {
        try (FailingBlockDevice device = FailingBlockDevice.failingWritesPastFreeSpace(dir, 8L * MIB, 64L * MIB);
             Arena arena = Arena.ofShared()) {
            long firstFailure;
            long errno = 0;
            try (AioContext aio = AioContext.open(8);
                 AioFile file = AioFile.open(device.path(), READ, WRITE, ExtendedOpenOption.DIRECT)) {
                MemorySegment chunk = arena.allocate(MIB, BLOCK);
                chunk.fill((byte) 0x5a);
                firstFailure = -1;
                for (long position = 0; position < 64L * MIB && firstFailure < 0; position += MIB) {
                    aio.prepareWrite(file, chunk, position, position);
                    aio.submit();
                    long result = awaitAll(aio, 1).get(position);
                    if (result < 0) {
                        // The loop driver of Linux 6.18 passes the backing file's ENOSPC up; older ones gave EIO.
                        assertThat(result).as("result of the write at %d MiB", position / MIB).isIn(-EIO, -ENOSPC);
                        errno = -result;
                        firstFailure = position;
                    } else {
                        assertThat(result).isEqualTo(MIB);
                    }
                }
                assertThat(firstFailure).as("position of the first failed write").isPositive();
                // What was written before the failure reads back.
                MemorySegment back = arena.allocate(BLOCK, BLOCK);
                aio.prepareRead(file, back, 0, 99);
                aio.submit();
                assertThat(awaitAll(aio, 1)).containsEntry(99L, (long) BLOCK);
                assertThat(back.asByteBuffer().get(100)).isEqualTo((byte) 0x5a);
            }
            System.out.printf("the loop device failed writes from %d MiB on with errno %d%n", firstFailure / MIB, errno);
            assertEngineAndChannelReport(device, arena, firstFailure + 8L * MIB, false, errno);
        }
    }

    /**
     * Through the engine, a direct channel and a direct asynchronous channel
     * (handler and future): a request at {@code bad} fails with an exception
     * naming {@code errno}; one at 0 then succeeds.
     */
    private static void assertEngineAndChannelReport(FailingBlockDevice device, Arena arena, long bad,
                                                     boolean readsFail, long errno) throws Exception {
        String name = errno == EIO ? "EIO" : "ENOSPC";
        MemorySegment block = arena.allocate(BLOCK, BLOCK);
        try (AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(device.path(), READ, WRITE, ExtendedOpenOption.DIRECT)) {
            var failed = readsFail ? engine.read(file, block, bad) : engine.write(file, block, bad);
            assertThatThrownBy(() -> failed.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(AioException.class, e -> {
                        assertThat(e.errnoName()).isEqualTo(name);
                        assertThat(e.errno()).isEqualTo((int) errno);
                    }).hasMessageContaining(name);
            assertThat(engine.read(file, block, 0).get(30, TimeUnit.SECONDS)).isEqualTo(BLOCK);

            try (AioFileChannel channel = AioFileChannel.open(device.path(),
                    Set.of(READ, WRITE, ExtendedOpenOption.DIRECT), engine)) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK).limit(BLOCK);
                assertThatThrownBy(() -> {
                    if (readsFail) {
                        channel.read(buffer, bad);
                    } else {
                        channel.write(buffer, bad);
                    }
                }).isInstanceOf(IOException.class).hasMessageContaining(name);
                assertThat(channel.isOpen()).as("a failed request leaves the channel open").isTrue();
                assertThat(channel.read(buffer.clear().limit(BLOCK), 0)).isEqualTo(BLOCK);
            }

            try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(device.path(),
                    Set.of(READ, WRITE, ExtendedOpenOption.DIRECT), null, engine)) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK).limit(BLOCK);
                CompletableFuture<Integer> outcome = new CompletableFuture<>();
                CompletionHandler<Integer, Void> handler = new CompletionHandler<>() {
                    @Override
                    public void completed(Integer result, Void attachment) {
                        outcome.complete(result);
                    }

                    @Override
                    public void failed(Throwable error, Void attachment) {
                        outcome.completeExceptionally(error);
                    }
                };
                if (readsFail) {
                    channel.read(buffer, bad, null, handler);
                } else {
                    channel.write(buffer, bad, null, handler);
                }
                assertThatThrownBy(() -> outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(IOException.class).hasMessageContaining(name);
                var viaFuture = readsFail ? channel.readAsync(buffer.clear().limit(BLOCK), bad)
                        : channel.writeAsync(buffer.clear().limit(BLOCK), bad);
                assertThatThrownBy(() -> viaFuture.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(IOException.class).hasMessageContaining(name);
                assertThat(channel.isOpen()).as("a failed request leaves the channel open").isTrue();
                assertThat(channel.read(buffer.clear().limit(BLOCK), 0).get(30, TimeUnit.SECONDS)).isEqualTo(BLOCK);
            }
        }
    }

    private static Map<Long, Long> awaitAll(AioContext aio, int count) {
        Map<Long, Long> results = new HashMap<>();
        while (results.size() < count) {
            int n = aio.await(1, 30, TimeUnit.SECONDS, (tag, result) -> {
                assertThat(results.put(tag, result)).as("second completion of tag %d", tag).isNull();
            });
            assertThat(n).as("completions within 30 s").isPositive();
        }
        return results;
    }
}
