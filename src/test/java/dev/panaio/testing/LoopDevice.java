package dev.panaio.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.panaio.testing.SystemCommands.assumeRoot;
import static dev.panaio.testing.SystemCommands.exec;
import static dev.panaio.testing.SystemCommands.tool;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A small ext4 (or XFS, or btrfs) filesystem on a loop device, mounted under a test's
 * temporary directory: the way to get a 4096-byte-sector device, a disk that fills up, or
 * a filesystem the build directory is not on, without touching the machine's real disk.
 * Needs root, losetup, mkfs.ext4 (mkfs.xfs, mkfs.btrfs) and mount; {@link #create},
 * {@link #createXfs} and {@link #createBtrfs} skip the test, saying which is missing.
 * {@link #close()} unmounts and detaches, always.
 */
public final class LoopDevice implements AutoCloseable {

    private final Path image;
    private final String device;
    private final Path mountPoint;
    private boolean mounted;

    private LoopDevice(Path image, String device, Path mountPoint) {
        this.image = image;
        this.device = device;
        this.mountPoint = mountPoint;
    }

    /**
     * Makes a {@code sizeBytes} image in {@code dir}, attaches it with the
     * given logical sector size, formats it ext4 (no blocks reserved for root)
     * and mounts it at {@code dir/mnt}.
     */
    public static LoopDevice create(Path dir, long sizeBytes, int sectorSize) throws IOException {
        assumeRoot();
        String mkfs = tool("mkfs.ext4", "e2fsprogs");
        return create(dir, sizeBytes, sectorSize, "mkfs.ext4", mkfs, "-q", "-F", "-m", "0");
    }

    /**
     * Makes a {@code sizeBytes} image in {@code dir} (XFS wants 300 MiB at
     * least; the image is sparse, so it costs only what mkfs writes), attaches
     * it with 512-byte sectors, formats it XFS and mounts it at {@code dir/mnt}.
     * Skips the test where the kernel has no XFS (not in
     * {@code /proc/filesystems}, and no module that {@code modprobe} loads).
     */
    public static LoopDevice createXfs(Path dir, long sizeBytes) throws IOException {
        assumeRoot();
        String mkfs = tool("mkfs.xfs", "xfsprogs");
        assumeKernelHas("xfs");
        return create(dir, sizeBytes, 512, "mkfs.xfs", mkfs, "-q", "-f");
    }

    /**
     * Makes a {@code sizeBytes} image in {@code dir} (mkfs.btrfs wants about
     * 120 MiB at least; the image is sparse), attaches it with 512-byte
     * sectors, formats it btrfs with mkfs's defaults and mounts it at
     * {@code dir/mnt} with the kernel's defaults (copy-on-write, checksums, no
     * compression). Skips the test where the kernel has no btrfs, as
     * {@link #createXfs} does for XFS.
     */
    public static LoopDevice createBtrfs(Path dir, long sizeBytes) throws IOException {
        assumeRoot();
        String mkfs = tool("mkfs.btrfs", "btrfs-progs");
        assumeKernelHas("btrfs");
        return create(dir, sizeBytes, 512, "mkfs.btrfs", mkfs, "-q", "-f");
    }

    /**
     * Makes the directory {@code name} on this (btrfs) filesystem with copy-on-write turned off
     * ({@code chattr +C}): the files made in it afterwards are written in place, without checksums, as btrfs's
     * {@code nodatacow} mount option would have them. Skips the test without chattr.
     */
    public Path directoryWithoutCopyOnWrite(String name) throws IOException {
        String chattr = tool("chattr", "e2fsprogs");
        Path directory = Files.createDirectory(mountPoint.resolve(name));
        exec(chattr, "+C", directory.toString()).check("chattr +C");
        return directory;
    }

    /**
     * Skips the test unless {@code /proc/filesystems} lists {@code type}, built in or a module that
     * {@code modprobe} loads now (mount would load it the same way).
     */
    private static void assumeKernelHas(String type) throws IOException {
        if (!kernelHas(type)) {
            for (String modprobe : List.of("/usr/sbin/modprobe", "/sbin/modprobe")) {
                if (Files.isExecutable(Path.of(modprobe))) {
                    exec(modprobe, "-q", type); // its answer is read below
                    break;
                }
            }
            assumeTrue(kernelHas(type), "this kernel has no " + type + " (not in /proc/filesystems, and modprobe "
                    + type + " did not add it): nothing to mount the test's filesystem with");
        }
    }

    /** Whether {@code /proc/filesystems} lists {@code type}: built in, or its module loaded. */
    private static boolean kernelHas(String type) throws IOException {
        return Files.readAllLines(Path.of("/proc/filesystems"), StandardCharsets.UTF_8).stream()
                .anyMatch(line -> line.strip().endsWith("\t" + type) || line.strip().equals(type));
    }

    private static LoopDevice create(Path dir, long sizeBytes, int sectorSize, String mkfsName, String... mkfs)
            throws IOException {
        assumeTrue(Files.exists(Path.of("/dev/loop-control")), "this machine has no /dev/loop-control");
        String losetup = tool("losetup", "util-linux");
        String mount = tool("mount", "mount");
        tool("umount", "mount");

        Path image = dir.resolve("fs.img");
        try (var file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(sizeBytes); // sparse: the image costs only what mkfs writes
        }
        SystemCommands.Result attach = exec(losetup, "--sector-size", Integer.toString(sectorSize), "-f", "--show",
                image.toString());
        assumeTrue(attach.exitCode() == 0, () -> "cannot attach a loop device here: " + attach);
        LoopDevice loop = new LoopDevice(image, attach.output().strip(), dir.resolve("mnt"));
        try {
            String[] format = Arrays.copyOf(mkfs, mkfs.length + 1);
            format[mkfs.length] = loop.device;
            exec(format).check(mkfsName);
            Files.createDirectories(loop.mountPoint);
            exec(mount, loop.device, loop.mountPoint.toString()).check("mount");
            loop.mounted = true;
            return loop;
        } catch (IOException | RuntimeException e) {
            loop.close();
            throw e;
        }
    }

    /** The directory the filesystem is mounted on. */
    public Path mountPoint() {
        return mountPoint;
    }

    /** The device node, such as {@code /dev/loop0}. */
    public String device() {
        return device;
    }

    /**
     * Unmounts, detaches the device and deletes the image. A mount still in use is detached lazily (and this
     * throws): the device then goes when the last file on it is closed, not never.
     */
    @Override
    public void close() throws IOException {
        try {
            if (mounted) {
                mounted = false;
                SystemCommands.Result umount = exec(tool("umount", "mount"), mountPoint.toString());
                if (umount.exitCode() != 0) {
                    // Busy (a failed test left a file open): detach it from the tree now, so that the kernel
                    // releases the filesystem, and then the device, once the last descriptor closes.
                    exec(tool("umount", "mount"), "--lazy", mountPoint.toString()).check("umount --lazy");
                    umount.check("umount");
                }
            }
        } finally {
            try {
                exec(tool("losetup", "util-linux"), "-d", device).check("losetup -d");
            } finally {
                Files.deleteIfExists(image);
            }
        }
    }
}
