package dev.panaio.bench;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;
import dev.panaio.DirectIoUnsupportedException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Readies the file a run works on, and checks it before any engine starts:
 * that it exists and is large enough, that its filesystem does O_DIRECT, and
 * that --bs keeps to the file's direct I/O alignment.
 */
final class BenchTarget {
    private BenchTarget() {
    }

    /** The spec of a run of {@code options} at queue depth {@code qd}. */
    static RunSpec prepare(BenchOptions options, int qd, Path dataDir) throws BenchFailure {
        long warmup = (long) (options.warmup() * 1e9);
        long measure = (long) (options.seconds() * 1e9);
        if (!options.workload().usesDataFile()) {
            return new RunSpec(options.workload(), Path.of(Workload.DEV_ZERO), 0, options.bs(), qd, false,
                    warmup, measure, 4096, batch(options, qd), false, null, options.stallTrace());
        }
        Path file = options.file() != null ? ensureUserFile(options.file(), options)
                : ensureDataFile(dataDir.resolve("bench.dat"), options.size());
        long size = checkFile(file, options);
        int alignment = 4096;
        if (options.direct()) {
            DirectAlignment rules = directAlignment(file);
            if (options.bs() % rules.offset() != 0) {
                throw new BenchFailure(String.format(Locale.ROOT,
                        "--bs %d is not a multiple of %d, the O_DIRECT alignment of %s (learned from %s): use "
                                + "--bs %d, or --buffered", options.bs(), rules.offset(), file,
                        rules.source().name().toLowerCase(Locale.ROOT),
                        Math.max(rules.offset(), options.bs() / rules.offset() * rules.offset())));
            }
            alignment = (int) Math.max(alignment, rules.memory());
        } else if (options.workload().isRead() && !options.uncached()) {
            cacheOnce(file, size);
        }
        FileCursor cursor = null;
        long blocks = size / options.bs() * options.bs();
        if (options.workload() == Workload.APPEND) {
            cursor = new FileCursor(blocks, 0, options.bs(), false);
        } else if (options.workload() == Workload.WAL) {
            cursor = new FileCursor(0, blocks, options.bs(), options.fallocated());
            if (options.fallocated()) {
                file = file.resolveSibling(file.getFileName() + ".fallocated");
                size = blocks;
                fallocateFresh(file, size);
            } else {
                walOnce(file, size);
            }
        }
        if (!options.direct() && !options.workload().isRead()) {
            Progress.say(DirtyLimits.describe(file));
        }
        return new RunSpec(options.workload(), file, size, options.bs(), qd, options.direct(), warmup, measure,
                alignment, batch(options, qd), options.uncached(), cursor, options.stallTrace());
    }

    private static final java.util.Set<Path> WAL_NOTED = new java.util.HashSet<>();

    /**
     * Says, once per file, how the log is preallocated. The harness's own file
     * was written in full when it was made, so every block is a written extent;
     * that is the point. A file preallocated with fallocate(2) holds unwritten
     * extents, and the first write into each makes the filesystem convert it,
     * a metadata change that a durable write must commit to the journal before
     * it completes: one journal commit per record instead of a device flush.
     * Journals (Artemis fills its files with zeros) write their files once for
     * this reason. A --file given by the user is taken as it is.
     */
    private static void walOnce(Path file, long size) {
        if (WAL_NOTED.add(file)) {
            Progress.say(String.format(Locale.ROOT, "wal: records go round %s (%s), preallocated by writing it in "
                    + "full when it was made (written extents, so a durable write needs no journal commit for "
                    + "the extent); a --file is used as it is", file, bytes(size)));
        }
    }

    /**
     * wal --fallocated: makes {@code file} anew, {@code size} bytes allocated
     * with fallocate(2) (unwritten extents that read as zeros), and commits the
     * allocation, so that a run pays for converting extents, not for allocating.
     */
    private static void fallocateFresh(Path file, long size) throws BenchFailure {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file);
            int fd = Libc.open(file, Libc.O_RDWR);
            try {
                Libc.fallocate(fd, 0, size, file);
            } finally {
                Libc.close(fd);
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        } catch (IOException e) {
            throw new BenchFailure("cannot preallocate " + file + " with fallocate: " + e.getMessage()
                    + " (drop --fallocated, or use a filesystem with fallocate such as ext4 or xfs)");
        }
    }

    /**
     * Before each engine: append's stream starts again from the file's size as
     * it was, and the file is cut back to it; wal's starts again at the file's
     * beginning, on a file made anew for --fallocated.
     */
    static void restartStream(RunSpec spec) throws BenchFailure {
        FileCursor cursor = spec.cursor();
        if (cursor == null) {
            return;
        }
        cursor.reset();
        if (cursor.fallocatedEachRun()) {
            fallocateFresh(spec.file(), spec.fileSize());
        } else if (spec.workload() == Workload.APPEND) {
            cutBack(spec.file(), cursor.base());
        }
    }

    /** After the last engine: append's file is cut back to its size; --fallocated's file is deleted. */
    static void endStream(RunSpec spec) throws BenchFailure {
        FileCursor cursor = spec.cursor();
        if (cursor == null) {
            return;
        }
        if (cursor.fallocatedEachRun()) {
            try {
                Files.deleteIfExists(spec.file());
            } catch (IOException e) {
                throw new BenchFailure("cannot delete " + spec.file() + ": " + e.getMessage());
            }
        } else if (spec.workload() == Workload.APPEND) {
            cutBack(spec.file(), cursor.base());
        }
    }

    private static void cutBack(Path file, long size) throws BenchFailure {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            if (channel.size() > size) {
                channel.truncate(size);
            }
        } catch (IOException e) {
            throw new BenchFailure("cannot cut " + file + " back to " + size + " bytes: " + e.getMessage());
        }
    }

    /** Filesystems in memory: O_DIRECT opens there (tmpfs since Linux 6.6) but every request is a memory copy. */
    private static final Set<String> MEMORY_FILESYSTEMS = Set.of("tmpfs", "ramfs");
    private static final int PROBE_READS = 16;
    /** How much slower than a page cache hit a direct read must be to have come from a device. */
    private static final double DEVICE_FACTOR = 2;
    private static final long PROBE_BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /**
     * A warning line when a run with O_DIRECT would measure memory rather than
     * a device; null otherwise. Two checks. First the file's filesystem type,
     * from the mount table ({@code FileStore.type()}): tmpfs and ramfs accept
     * O_DIRECT and ignore it. Then, for any other filesystem that might (FUSE,
     * network or stacked ones), a probe that times, one by one, reads of at
     * most 4 KiB of {@value #PROBE_READS} blocks spread over the file, each
     * read once through the page cache (untimed, so it is cached), again
     * through the page cache (timed: a cache hit on this machine, now), and
     * with O_DIRECT. A device takes several times longer than a cache hit (the
     * fastest NVMe drives about 10 µs, a hit 1 to 4 µs); a direct median under
     * {@value #DEVICE_FACTOR} times the cached one means the page cache
     * answered. Timing against a hit measured alongside keeps the test fair on
     * a busy machine or a cold JVM. It costs a few milliseconds and leaves 16
     * blocks in the page cache, which direct reads ignore.
     */
    static String directIoWarning(RunSpec spec) {
        if (!spec.direct() || !spec.workload().usesDataFile()) {
            return null;
        }
        Path file = spec.file();
        String type;
        try {
            type = Files.getFileStore(file).type();
        } catch (IOException e) {
            type = "unknown";
        }
        if (MEMORY_FILESYSTEMS.contains(type)) {
            return String.format(Locale.ROOT, "warning: %s is on %s, which accepts O_DIRECT but does not enforce "
                    + "it: every request is a copy to or from memory, so the figures measure memory, not a device",
                    file, type);
        }
        if (spec.cursor() != null && spec.cursor().fallocatedEachRun()) {
            return null; // unwritten extents read as zeros without the device: the probe would always warn
        }
        double[] medians = probeReadMicros(spec);
        if (medians != null && medians[1] < DEVICE_FACTOR * medians[0]) {
            return String.format(Locale.ROOT, "warning: O_DIRECT reads of %s took %.1f µs, a page cache hit %.1f µs "
                    + "(medians of %d probe reads): its filesystem (%s) answers O_DIRECT reads from memory, so the "
                    + "figures measure memory, not a device", file, medians[1], medians[0], PROBE_READS, type);
        }
        return null;
    }

    /**
     * The medians, in µs, of the probe's cached and direct reads, or null when
     * the file cannot be probed or the probe ran out of time (a slow device).
     */
    private static double[] probeReadMicros(RunSpec spec) {
        // 4 KiB at most: a small read, whose time is mostly latency. A --bs above 4 KiB that keeps
        // to the O_DIRECT alignment is a multiple of 4 KiB whenever the alignment divides 4 KiB.
        int length = spec.bs() > 4096 && spec.bs() % 4096 == 0 ? 4096 : spec.bs();
        long blocks = spec.fileSize() / spec.bs();
        if (blocks == 0) {
            return null;
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(length + spec.bufferAlignment())
                .alignedSlice(spec.bufferAlignment());
        long[] cached = new long[PROBE_READS];
        long[] direct = new long[PROBE_READS];
        try (FileChannel buffered = FileChannel.open(spec.file(), StandardOpenOption.READ);
             FileChannel unbuffered = FileChannel.open(spec.file(), StandardOpenOption.READ,
                     ExtendedOpenOption.DIRECT)) {
            long deadline = System.nanoTime() + PROBE_BUDGET_NANOS;
            for (int i = 0; i < PROBE_READS; i++) {
                long position = Long.remainderUnsigned(i * 0x9E3779B97F4A7C15L, blocks) * spec.bs();
                buffered.read(buffer.clear().limit(length), position);
                long start = System.nanoTime();
                buffered.read(buffer.clear().limit(length), position);
                long middle = System.nanoTime();
                unbuffered.read(buffer.clear().limit(length), position);
                long end = System.nanoTime();
                cached[i] = middle - start;
                direct[i] = end - middle;
                if (end > deadline) {
                    return null;
                }
            }
        } catch (IOException | RuntimeException e) {
            return null; // unreadable (a write-only file) or misaligned for the JDK: the run itself will say more
        }
        Arrays.sort(cached);
        Arrays.sort(direct);
        return new double[] {cached[PROBE_READS / 2] / 1e3, direct[PROBE_READS / 2] / 1e3};
    }

    private static int batch(BenchOptions options, int qd) {
        return options.batch() > 0 ? Math.min(options.batch(), qd) : qd;
    }

    private static final java.util.Set<Path> CACHED = new java.util.HashSet<>();

    /**
     * Reads the file once through the page cache before buffered reads, so that
     * every engine finds it cached. Otherwise the first engine pays for the
     * disk, and buffered AIO pays most: it reads synchronously inside io_submit,
     * one request at a time.
     */
    private static void cacheOnce(Path file, long size) throws BenchFailure {
        if (!CACHED.add(file)) {
            return;
        }
        Progress.say(String.format(Locale.ROOT, "reading %s (%s) into the page cache for buffered reads", file,
                bytes(size)));
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            long position = 0;
            int n;
            while ((n = in.read(chunk.clear(), position)) > 0) {
                position += n;
            }
        } catch (IOException e) {
            throw new BenchFailure("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static long checkFile(Path file, BenchOptions options) throws BenchFailure {
        if (!Files.exists(file)) {
            throw new BenchFailure("no such file: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new BenchFailure(file + " is not a regular file");
        }
        boolean write = !options.workload().isRead();
        if (!(write ? Files.isWritable(file) : Files.isReadable(file))) {
            throw new BenchFailure("cannot " + (write ? "write " : "read ") + file + ": permission denied");
        }
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new BenchFailure("cannot read the size of " + file + ": " + e.getMessage());
        }
        if (size < options.bs()) {
            throw new BenchFailure(String.format(Locale.ROOT, "%s holds %d bytes, less than one --bs block of %d",
                    file, size, options.bs()));
        }
        return size;
    }

    private static DirectAlignment directAlignment(Path file) throws BenchFailure {
        try (AioFile aio = AioFile.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
            return aio.alignment();
        } catch (DirectIoUnsupportedException e) {
            throw new BenchFailure(String.format(Locale.ROOT, "%s is on a filesystem (%s) without O_DIRECT: use "
                    + "--buffered, or a file on a disk filesystem such as ext4 or xfs", file, e.filesystemType()));
        } catch (NoSuchFileException e) {
            throw new BenchFailure("no such file: " + file);
        } catch (AccessDeniedException e) {
            throw new BenchFailure("cannot open " + file + ": permission denied");
        } catch (IOException e) {
            throw new BenchFailure("cannot open " + file + " for direct I/O: " + e.getMessage());
        }
    }

    /**
     * The file of --file; made at --size when it does not exist but its
     * directory does, as fio does. An existing file is used as it is.
     */
    private static Path ensureUserFile(Path file, BenchOptions options) throws BenchFailure {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return file;
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new BenchFailure("no such directory: " + dir + " (for --file " + file + ")");
        }
        if (options.size() < options.bs()) {
            throw new BenchFailure(String.format(Locale.ROOT, "cannot make %s: --size %d is smaller than --bs %d",
                    file, options.size(), options.bs()));
        }
        try {
            writeDataFile(file, options.size());
        } catch (IOException e) {
            throw new BenchFailure("cannot create " + file + ": " + e.getMessage());
        }
        return file;
    }

    /** Makes {@code file} of {@code size} bytes of non-zero data, unless it already is that size. */
    static Path ensureDataFile(Path file, long size) throws BenchFailure {
        try {
            if (Files.isRegularFile(file) && Files.size(file) == size) {
                return file;
            }
            Files.createDirectories(file.getParent());
            writeDataFile(file, size);
            return file;
        } catch (IOException e) {
            throw new BenchFailure("cannot create " + file + ": " + e.getMessage());
        }
    }

    /** Writes {@code size} bytes of non-zero data to {@code file}, through a sibling that is renamed at the end. */
    private static void writeDataFile(Path file, long size) throws IOException {
        Progress.say(String.format(Locale.ROOT, "creating %s: %s of non-zero data, once", file, bytes(size)));
        long start = System.nanoTime();
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        try (FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            SplittableRandom random = new SplittableRandom(42);
            for (int i = 0; i < chunk.capacity(); i++) {
                chunk.put(i, (byte) (random.nextInt(255) + 1));
            }
            long written = 0;
            while (written < size) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), size - written));
                while (chunk.hasRemaining()) {
                    written += out.write(chunk, written);
                }
            }
            out.force(true);
        }
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Progress.say(String.format(Locale.ROOT, "created %s in %.1f s", file,
                (System.nanoTime() - start) / (double) TimeUnit.SECONDS.toNanos(1)));
    }

    static String bytes(long n) {
        if (n >= 1L << 30 && n % (1L << 30) == 0) {
            return (n >> 30) + " GiB";
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1 << 20));
        }
        return n + " bytes";
    }
}
