package dev.panaio.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.panaio.testing.SystemCommands.assumeRoot;
import static dev.panaio.testing.SystemCommands.exec;
import static dev.panaio.testing.SystemCommands.tool;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A block device that fails some of its I/O, for tests of how panaio
 * reports device errors. Two ways, each skipping the test (with the reason)
 * where the machine cannot provide it:
 * <ul>
 *   <li>{@link #withErrorSectors}: device-mapper's {@code error} target
 *       behind a {@code zero} target: reads and writes of the first sectors
 *       succeed (reads give zeros), any I/O of the rest fails with EIO. Needs
 *       root, a kernel with device-mapper and dmsetup.</li>
 *   <li>{@link #failingWritesPastFreeSpace}: a loop device over a sparse file
 *       on a small filesystem (itself on a loop device). Writes that need new
 *       blocks of the backing file fail there with ENOSPC, which the loop
 *       driver passes up: as ENOSPC on Linux 6.18 (loop drivers once turned
 *       every backing error into EIO). Reads succeed. Needs root, loop
 *       devices, losetup, mkfs.ext4 and mount.</li>
 * </ul>
 * {@link #close()} removes every device it made, always.
 */
public final class FailingBlockDevice implements AutoCloseable {
    private static final AtomicInteger NAMES = new AtomicInteger();

    private final Path device;
    private final long goodBytes;
    private final List<String[]> cleanup = new ArrayList<>();
    private LoopDevice filesystem;

    private FailingBlockDevice(Path device, long goodBytes) {
        this.device = device;
        this.goodBytes = goodBytes;
    }

    /** The device node to open. */
    public Path path() {
        return device;
    }

    /** Bytes from the start that do not fail (reads of them: see the factory). */
    public long goodBytes() {
        return goodBytes;
    }

    /**
     * A device-mapper device of {@code goodBytes} of the {@code zero} target
     * followed by {@code badBytes} of the {@code error} target.
     */
    public static FailingBlockDevice withErrorSectors(long goodBytes, long badBytes) throws IOException {
        assumeRoot();
        assumeTrue(Files.readAllLines(Path.of("/proc/misc")).stream().anyMatch(l -> l.endsWith(" device-mapper")),
                "this kernel has no device-mapper (no device-mapper in /proc/misc: CONFIG_BLK_DEV_DM is off or "
                        + "dm_mod is not loaded), so there is no error target to make EIO with");
        String dmsetup = tool("dmsetup", "dmsetup");
        String name = String.format(Locale.ROOT, "panaio-eio-%d-%d", ProcessHandle.current().pid(),
                NAMES.incrementAndGet());
        long good = goodBytes / 512;
        long bad = badBytes / 512;
        Path table = Files.createTempFile(Path.of("target"), name, ".table");
        SystemCommands.Result created;
        try {
            Files.writeString(table, String.format(Locale.ROOT, "0 %d zero\n%d %d error\n", good, good, bad));
            created = exec(dmsetup, "create", "--noudevsync", name, table.toString());
        } finally {
            Files.deleteIfExists(table);
        }
        SystemCommands.Result outcome = created;
        assumeTrue(outcome.exitCode() == 0, () -> "device-mapper is there but dmsetup create failed: " + outcome);
        FailingBlockDevice result = new FailingBlockDevice(Path.of("/dev/mapper", name), goodBytes);
        result.cleanup.add(new String[] {dmsetup, "remove", "--noudevsync", name});
        try {
            // Without udev nothing makes the node: dmsetup can.
            exec(dmsetup, "mknodes", name).check("dmsetup mknodes");
            if (!Files.exists(result.device)) {
                throw new IOException("dmsetup made no node " + result.device);
            }
            return result;
        } catch (IOException | RuntimeException e) {
            result.close();
            throw e;
        }
    }

    /**
     * A loop device of {@code deviceBytes} over a sparse file on an ext4
     * filesystem of {@code filesystemBytes} made in {@code dir}: only about
     * as much as the filesystem has free can be written; writes beyond that
     * fail in the device.
     */
    public static FailingBlockDevice failingWritesPastFreeSpace(Path dir, long filesystemBytes, long deviceBytes)
            throws IOException {
        assumeRoot();
        String losetup = tool("losetup", "util-linux");
        LoopDevice filesystem = LoopDevice.create(dir, filesystemBytes, 512);
        try {
            Path backing = filesystem.mountPoint().resolve("disk.img");
            try (var file = new RandomAccessFile(backing.toFile(), "rw")) {
                file.setLength(deviceBytes); // sparse: blocks are allocated as the device is written
            }
            long free = Files.getFileStore(filesystem.mountPoint()).getUsableSpace();
            SystemCommands.Result attached = exec(losetup, "-f", "--show", backing.toString());
            assumeTrue(attached.exitCode() == 0, () -> "cannot attach a loop device here: " + attached);
            FailingBlockDevice result = new FailingBlockDevice(Path.of(attached.output().strip()), free);
            result.filesystem = filesystem;
            result.cleanup.add(new String[] {losetup, "-d", attached.output().strip()});
            return result;
        } catch (IOException | RuntimeException | Error e) {
            filesystem.close();
            throw e;
        }
    }

    /** Removes the devices, innermost last. */
    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (String[] command : cleanup.reversed()) {
            SystemCommands.Result removed = exec(command);
            if (removed.exitCode() != 0 && failure == null) {
                failure = new IOException("cleanup failed: " + removed);
            }
        }
        cleanup.clear();
        if (filesystem != null) {
            filesystem.close();
            filesystem = null;
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return device.toString();
    }

}
