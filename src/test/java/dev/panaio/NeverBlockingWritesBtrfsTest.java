package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.testing.LoopDevice;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * panaio's writes on btrfs, made on a loop device under the build directory
 * with mkfs's and the kernel's defaults. btrfs treats a file by whether it is
 * copied on write (the default) or written in place ({@code chattr +C}, as
 * under the {@code nodatacow} mount option), so each test runs on one file of
 * each kind, and what to expect is asked of the kernel first, for each.
 *
 * <p>Measured on Linux 6.18: btrfs answers EAGAIN to every
 * {@code pwritev2(RWF_NOWAIT)} of a buffered write to a copy-on-write file, and
 * takes it for a file written in place; and it runs an {@code O_DIRECT}
 * write to a copy-on-write file synchronously inside {@code io_submit} (through
 * the page cache), answering EAGAIN when the request has NOWAIT, while an
 * overwrite of a file written in place stays asynchronous. It reports no
 * {@code STATX_DIOALIGN}, and serves a direct request aligned to less than its
 * block size through the page cache, inside {@code io_submit}, instead of
 * refusing it: the alignment panaio assumes must be a multiple of that size.
 */
class NeverBlockingWritesBtrfsTest {
    private static final int SEED = 43;
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 8;

    @TempDir
    Path dir;

    /**
     * The asynchronous channel's buffered writes, checked as on XFS
     * ({@link BufferedNowaitWrites}). On a copy-on-write file, where btrfs's
     * EAGAIN is its answer rather than a moment's, every write must go to the
     * file's queue with none of its bytes written by the caller; on a file
     * written in place, where btrfs takes NOWAIT, writes must be answered on
     * the caller's thread.
     */
    @Test
    void shouldWriteBufferedOnTheCallersThreadOnlyWhereBtrfsTakesNowait() throws Exception {
        try (LoopDevice btrfs = LoopDevice.createBtrfs(dir, 256L << 20)) {
            BufferedNowaitWrites.checkAgainstTheKernel(btrfs.mountPoint().resolve("probe"),
                    btrfs.mountPoint().resolve("data"), "btrfs (copy-on-write)",
                    BufferedNowaitWrites.PersistentEagain.MEANS_QUEUED);
            Path inPlace = btrfs.directoryWithoutCopyOnWrite("nocow");
            BufferedNowaitWrites.checkAgainstTheKernel(inPlace.resolve("probe"), inPlace.resolve("data"),
                    "btrfs (no copy-on-write)", BufferedNowaitWrites.PersistentEagain.SKIPS);
        }
    }

    /**
     * The engine's {@code O_DIRECT} overwrites: one that btrfs would run inside
     * {@code io_submit}, which a raw request with the caller's own NOWAIT
     * shows by its EAGAIN, is written on the pool instead, so that no engine
     * thread or submitting caller waits there; one that btrfs takes with
     * NOWAIT stays in the kernel.
     */
    @Test
    void shouldMakeOnThePoolTheDirectWritesBtrfsWouldRunInsideIoSubmit() throws Exception {
        try (LoopDevice btrfs = LoopDevice.createBtrfs(dir, 256L << 20)) {
            long sector = sectorSize(btrfs.device());
            checkDirectOverwrite(btrfs.mountPoint().resolve("data"), sector);
            checkDirectOverwrite(btrfs.directoryWithoutCopyOnWrite("nocow").resolve("data"), sector);
        }
    }

    /**
     * btrfs's block size on {@code device}, from sysfs: what its direct I/O needs aligned, memory and offsets
     * alike. Measured on Linux 6.18, btrfs answers no {@code STATX_DIOALIGN} and serves a misaligned
     * {@code O_DIRECT} request through the page cache, inside {@code io_submit}, rather than refusing it.
     */
    private static long sectorSize(String device) throws IOException {
        String name = Path.of(device).getFileName().toString();
        try (Stream<Path> filesystems = Files.list(Path.of("/sys/fs/btrfs"))) {
            Path fs = filesystems.filter(f -> Files.exists(f.resolve("devices").resolve(name))).findFirst()
                    .orElseThrow(() -> new AssertionError("no btrfs in /sys/fs/btrfs has " + device));
            return Long.parseLong(Files.readString(fs.resolve("sectorsize")).strip());
        }
    }

    private static void checkDirectOverwrite(Path path, long sector) throws Exception {
        Files.write(path, new byte[BLOCKS * BLOCK], CREATE, WRITE); // allocated and on disk before the overwrites
        try (AioEngine engine = AioEngine.open();
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofShared()) {
            // Aligned to less, a request the caller believed direct would be served by the page cache, in io_submit.
            DirectAlignment alignment = file.alignment();
            assertThat(alignment.memory() % sector == 0 && alignment.offset() % sector == 0)
                    .as("%s on btrfs with %d-byte blocks", alignment, sector).isTrue();
            engine.fdatasync(file).get(30, TimeUnit.SECONDS);
            // A direct write with NOWAIT over cached pages answers EAGAIN whatever the filesystem: none are left.
            file.advise(0, BLOCKS * BLOCK, Advice.DONTNEED);
            MemorySegment block = arena.allocate(BLOCK, BLOCK);
            TestData.fill(block, 0, SEED);
            Throwable refused = catchThrowable(() -> engine.write(file, block, 0,
                    RequestOptions.NONE.withFlags(RwFlag.NOWAIT)).join());
            boolean wouldBlock = refused instanceof CompletionException failed
                    && failed.getCause() instanceof AioException error && error.errno() == ErrnoExceptions.EAGAIN;
            assertThat(refused == null || wouldBlock)
                    .as("a direct overwrite with the caller's NOWAIT on %s failed otherwise: %s", path, refused)
                    .isTrue();
            long before = engine.stats().poolRuns();
            for (int i = 0; i < BLOCKS; i++) {
                TestData.fill(block, (long) i * BLOCK, SEED);
                assertThat(engine.write(file, block, (long) i * BLOCK).get(30, TimeUnit.SECONDS)).isEqualTo(BLOCK);
            }
            assertThat(engine.stats().poolRuns() - before)
                    .as("overwrites made on the pool, on %s, where a NOWAIT one %s", path,
                            wouldBlock ? "answered EAGAIN" : "was taken")
                    .isEqualTo(wouldBlock ? BLOCKS : 0);
        }
        assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)), 0, SEED))
                .as("first byte read back wrong through the JDK").isEqualTo(-1);
    }
}
