package dev.panaio.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What the block device under a file says about direct I/O, read from sysfs
 * ({@code /sys/dev/block/MAJOR:MINOR/queue}), independently of panaio: tests
 * derive their expected alignment from it instead of assuming 512-byte
 * sectors. A partition has no queue of its own and uses its disk's.
 *
 * @param logicalBlockSize the smallest unit the device addresses: ext4 and xfs report it as
 *                         {@code STATX_DIOALIGN}'s offset alignment
 * @param memoryAlignment  {@code dma_alignment + 1}: the buffer address alignment ext4 and xfs report
 */
public record BlockQueue(long logicalBlockSize, long memoryAlignment) {
    /** The queue of the device holding {@code file}, or empty where there is none (tmpfs, overlay, btrfs). */
    public static Optional<BlockQueue> of(Path file) throws IOException {
        long dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
        long major = (dev >>> 8) & 0xfff | (dev >>> 32) & ~0xfffL;
        long minor = dev & 0xff | (dev >>> 12) & ~0xffL;
        Path device = Path.of("/sys/dev/block/" + major + ":" + minor);
        if (!Files.exists(device)) {
            return Optional.empty();
        }
        Path queue = device.resolve("queue");
        if (!Files.isDirectory(queue)) {
            queue = device.toRealPath().getParent().resolve("queue");
        }
        if (!Files.isDirectory(queue)) {
            return Optional.empty();
        }
        return Optional.of(new BlockQueue(number(queue.resolve("logical_block_size")),
                number(queue.resolve("dma_alignment")) + 1));
    }

    private static long number(Path file) throws IOException {
        return Long.parseLong(Files.readString(file).trim());
    }
}
