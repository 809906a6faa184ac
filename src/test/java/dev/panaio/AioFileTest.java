package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.internal.sys.MountTable;
import dev.panaio.testing.BlockQueue;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.SPARSE;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AioFileTest {
    private static final int SEED = 3;
    private static final int POLLIN = 0x1;
    private static final int POLLOUT = 0x4;

    @TempDir
    Path dir;

    private Arena arena;

    @BeforeEach
    void openArena() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void closeArena() {
        arena.close();
    }

    private static long awaitOne(AioContext aio, long expectedTag) {
        long[] result = {Long.MIN_VALUE};
        assertThat(aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> {
            assertThat(tag).isEqualTo(expectedTag);
            result[0] = res;
        })).isEqualTo(1);
        return result[0];
    }

    // ------------------------------------------------------------ open options

    @Test
    void shouldOpenForReadingOnlyByDefault() throws IOException {
        Path path = TestData.writeFile(dir.resolve("default"), 100, SEED);
        try (AioFile file = AioFile.open(path); AioContext aio = AioContext.open(4)) {
            assertThat(file.isReadable()).isTrue();
            assertThat(file.isWritable()).isFalse();
            assertThat(file.isDirect()).isFalse();
            assertThat(file.path()).isEqualTo(path);
            assertThatThrownBy(() -> aio.prepareWrite(file, arena.allocate(10), 0, 1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(path + " was not opened for writing");
        }
    }

    @Test
    void shouldOpenForWritingOnlyWithWrite() throws IOException {
        Path path = TestData.writeFile(dir.resolve("write-only"), 100, SEED);
        try (AioFile file = AioFile.open(path, WRITE); AioContext aio = AioContext.open(4)) {
            assertThat(file.isReadable()).isFalse();
            assertThat(file.isWritable()).isTrue();
            assertThatThrownBy(() -> aio.prepareRead(file, arena.allocate(10), 0, 1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(path + " was not opened for reading");
            MemorySegment src = arena.allocate(10);
            TestData.fill(src, 0, SEED + 1);
            aio.prepareWrite(file, src, 0, 1);
            aio.submit();
            assertThat(awaitOne(aio, 1)).isEqualTo(10);
        }
        assertThat(Files.readAllBytes(path)[0]).isEqualTo(TestData.byteAt(0, SEED + 1));
    }

    @Test
    void shouldAppendEveryWriteWhateverItsPositionWithAppend() throws IOException {
        Path path = TestData.writeFile(dir.resolve("append"), 100, SEED);
        try (AioFile file = AioFile.open(path, APPEND); AioContext aio = AioContext.open(4)) {
            assertThat(file.isWritable()).as("APPEND implies WRITE").isTrue();
            assertThat(file.isReadable()).isFalse();
            MemorySegment src = arena.allocate(10);
            TestData.fill(src, 0, SEED + 1);
            aio.prepareWrite(file, src, 0, 1); // O_APPEND: the kernel ignores position 0
            aio.submit();
            assertThat(awaitOne(aio, 1)).isEqualTo(10);
            assertThat(file.size()).isEqualTo(110);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes[0]).as("the start is untouched").isEqualTo(TestData.byteAt(0, SEED));
        assertThat(bytes[100]).isEqualTo(TestData.byteAt(0, SEED + 1));
    }

    @Test
    void shouldRejectReadTogetherWithAppend() {
        Path path = dir.resolve("read-append");
        assertThatThrownBy(() -> AioFile.open(path, READ, APPEND))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("READ + APPEND not allowed");
        assertThat(path).doesNotExist();
    }

    @Test
    void shouldRefuseCreateNewOnAnExistingFile() throws IOException {
        Path path = TestData.writeFile(dir.resolve("exists"), 10, SEED);
        assertThatThrownBy(() -> AioFile.open(path, CREATE_NEW, WRITE))
                .isInstanceOfSatisfying(FileAlreadyExistsException.class, e -> {
                    assertThat(e.getFile()).isEqualTo(path.toString());
                    assertThat(e.getReason()).isEqualTo("EEXIST (File exists)");
                })
                .hasMessage(path + ": EEXIST (File exists)");
        assertThat(Files.size(path)).isEqualTo(10);
    }

    @Test
    void shouldCreateWithCreateNewOrCreateOnlyWhenWriting() throws IOException {
        Path created = dir.resolve("created");
        try (AioFile file = AioFile.open(created, CREATE_NEW, WRITE)) {
            assertThat(file.size()).isZero();
        }
        assertThat(created).exists();
        Path notCreated = dir.resolve("not-created");
        // As FileChannel: CREATE means nothing to a file opened for reading only.
        assertThatThrownBy(() -> AioFile.open(notCreated, CREATE, READ)).isInstanceOf(NoSuchFileException.class);
        assertThat(notCreated).doesNotExist();
    }

    @Test
    void shouldTruncateOnOpenOnlyWhenWriting() throws IOException {
        Path path = TestData.writeFile(dir.resolve("truncated"), 100, SEED);
        try (AioFile file = AioFile.open(path, READ, TRUNCATE_EXISTING)) {
            assertThat(file.size()).as("ignored for a file opened for reading").isEqualTo(100);
        }
        try (AioFile file = AioFile.open(path, WRITE, TRUNCATE_EXISTING, SPARSE)) {
            assertThat(file.size()).isZero();
        }
    }

    @Test
    void shouldReportAMissingFileAsNoSuchFileException() {
        Path path = dir.resolve("missing");
        assertThatThrownBy(() -> AioFile.open(path, READ))
                .isInstanceOfSatisfying(NoSuchFileException.class,
                        e -> assertThat(e.getFile()).isEqualTo(path.toString()))
                .hasMessage(path + ": ENOENT (No such file or directory)");
    }

    @Test
    void shouldReportARefusedWriteAsAccessDeniedException() throws Exception {
        // Root passes every permission check, but not an immutable file's.
        Path path = TestData.writeFile(dir.resolve("immutable"), 10, SEED);
        assumeTrue(new ProcessBuilder("chattr", "+i", path.toString()).start().waitFor() == 0,
                "chattr +i is not available here (e2fsprogs), or the filesystem has no immutable flag");
        try {
            assertThatThrownBy(() -> AioFile.open(path, WRITE))
                    .isInstanceOf(AccessDeniedException.class)
                    .hasMessage(path + ": EPERM (Operation not permitted)");
        } finally {
            new ProcessBuilder("chattr", "-i", path.toString()).start().waitFor();
        }
    }

    @Test
    void shouldRefuseOptionsItDoesNotSupportNamingThem() {
        Path path = dir.resolve("unsupported");
        java.nio.file.OpenOption unknown = new java.nio.file.OpenOption() {
            @Override
            public String toString() {
                return "UNKNOWN";
            }
        };
        assertThatThrownBy(() -> AioFile.open(path, CREATE, WRITE, unknown))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("UNKNOWN not supported");
        assertThat(path).doesNotExist();
        assertThatThrownBy(() -> AioFile.open(path, (java.nio.file.OpenOption) null))
                .isInstanceOf(NullPointerException.class).hasMessage("option");
        assertThatThrownBy(() -> AioFile.open(null)).isInstanceOf(NullPointerException.class).hasMessage("path");
    }

    // ------------------------------------------------------- size and truncate

    @Test
    void shouldReportSizeAndTruncateOrExtend() throws IOException {
        Path path = TestData.writeFile(dir.resolve("size"), 1000, SEED);
        try (AioFile file = AioFile.open(path, READ, WRITE)) {
            assertThat(file.size()).isEqualTo(1000);
            file.truncate(10);
            assertThat(file.size()).isEqualTo(10);
            file.truncate(1 << 20);
            assertThat(file.size()).isEqualTo(1 << 20);
            assertThatThrownBy(() -> file.truncate(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("size must not be negative: -1");
        }
        assertThat(Files.size(path)).isEqualTo(1 << 20);
    }

    @Test
    void shouldReportTheKernelsRefusalToTruncateAFileOpenedForReading() throws IOException {
        Path path = TestData.writeFile(dir.resolve("read-only"), 100, SEED);
        try (AioFile file = AioFile.open(path, READ)) {
            assertThatThrownBy(() -> file.truncate(10))
                    .isInstanceOfSatisfying(AioException.class, e -> {
                        assertThat(e.call()).isEqualTo("ftruncate");
                        assertThat(e.errnoName()).isEqualTo("EINVAL");
                    })
                    .hasMessage("ftruncate(" + path + ", 10) failed: EINVAL (Invalid argument)");
            assertThat(file.size()).isEqualTo(100);
        }
    }

    // ------------------------------------------------------------------ close

    @Test
    void shouldThrowClosedChannelExceptionOnceClosedAndCloseIdempotently() throws IOException {
        Path path = TestData.writeFile(dir.resolve("closed"), 100, SEED);
        AioFile file = AioFile.open(path, READ, WRITE);
        file.close();
        file.close();
        assertThat(file.isOpen()).isFalse();
        assertThat(file.toString()).isEqualTo("AioFile[" + path + ", closed]");
        assertThatThrownBy(file::size).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> file.truncate(1)).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(file::alignment).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void shouldRefuseToPrepareARequestOnAClosedFileNamingIt() throws IOException {
        Path path = TestData.writeFile(dir.resolve("closed-prepare"), 100, SEED);
        AioFile file = AioFile.open(path, READ);
        file.close();
        try (AioContext aio = AioContext.open(4)) {
            assertThatThrownBy(() -> aio.prepareRead(file, arena.allocate(10), 0, 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("AioFile " + path + " is closed");
            assertThatThrownBy(() -> aio.prepareFsync(file, 2))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
            assertThat(aio.prepared()).isZero();
        }
    }

    @Test
    void shouldRefuseToPrepareADirectRequestOnAClosedFileSayingItIsClosed() throws IOException {
        Path path = TestData.writeFile(dir.resolve("closed-direct"), 4096, SEED);
        AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
        file.close();
        try (AioContext aio = AioContext.open(4)) {
            MemorySegment block = arena.allocate(4096, 4096);
            assertThatThrownBy(() -> aio.prepareRead(file, block, 0, 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(path.toString())
                    .hasMessageContaining("is closed");
            assertThat(aio.prepared()).isZero();
        }
    }

    @Test
    void shouldKeepTheDescriptorOpenForAPreparedRequestUntilItIsSubmitted() throws IOException {
        Path path = TestData.writeFile(dir.resolve("close-while-prepared"), 4096, SEED);
        try (AioContext aio = AioContext.open(4)) {
            AioFile file = AioFile.open(path, READ);
            Path fdLink = Path.of("/proc/self/fd", Integer.toString(file.handle.fd()));
            MemorySegment dst = arena.allocate(4096);
            aio.prepareRead(file, dst, 0, 1);
            file.close();
            assertThat(file.isOpen()).isFalse();
            assertThat(Files.readSymbolicLink(fdLink)).as("still open: a request names it").isEqualTo(path);

            aio.submit();
            assertThat(awaitOne(aio, 1)).isEqualTo(4096);
            assertThat(TestData.firstMismatch(dst, 0, SEED)).isEqualTo(-1);
            // Closed once io_submit took it (the number may already belong to another file).
            assertThat(Files.exists(fdLink, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && Files.readSymbolicLink(fdLink).equals(path)).isFalse();
        }
    }

    // -------------------------------------------------------------- direct I/O

    @Test
    void shouldLearnTheDirectAlignmentOfAFileOnTheBuildDiskFromStatx() throws IOException {
        Path path = TestData.writeFile(dir.resolve("align"), 100, SEED);
        try (AioFile file = AioFile.open(path)) {
            DirectAlignment rules = file.alignment();
            // ext4 and xfs answer statx with the device's DMA alignment and logical block size.
            BlockQueue device = BlockQueue.of(path).orElse(null);
            assumeTrue(device != null, "the build directory is not on a block device (" + path + ")");
            assertThat(rules).isEqualTo(new DirectAlignment(device.memoryAlignment(), device.logicalBlockSize(),
                    DirectAlignment.Source.STATX));
            assertThat(file.alignment()).as("learned once").isSameAs(rules);
        }
    }

    @Test
    void shouldFallBackToTheDefaultAlignmentOnTmpfsWhichReportsNone() throws IOException {
        // This test is about tmpfs: statx gives no STATX_DIOALIGN there, and its anonymous device
        // has no /sys/dev/block entry, so panaio falls back to 4096, which tmpfs does not enforce anyway.
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && "tmpfs".equals(MountTable.filesystemType(shm)),
                "/dev/shm is not a tmpfs here");
        Path path = Files.createTempFile(shm, "panaio-align", ".bin");
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            assertThat(file.alignment()).isEqualTo(new DirectAlignment(4096, 4096, DirectAlignment.Source.DEFAULT));
        } finally {
            Files.delete(path);
        }
    }

    @Test
    void shouldNameTheFilesystemThatRefusesDirectIo() {
        // procfs files have no O_DIRECT: open(2) fails with EINVAL.
        Path path = Path.of("/proc/self/status");
        assertThatThrownBy(() -> AioFile.open(path, READ, ExtendedOpenOption.DIRECT))
                .isInstanceOfSatisfying(DirectIoUnsupportedException.class,
                        e -> assertThat(e.filesystemType()).isEqualTo("proc"))
                .hasMessage("cannot open /proc/self/status for direct I/O: its filesystem (proc) does not support "
                        + "O_DIRECT (open(2) gave EINVAL); open it without ExtendedOpenOption.DIRECT to use the "
                        + "page cache");
    }

    @Test
    void shouldOpenTheSameProcFileWithoutDirectThoughTheKernelHasNoAioReadForIt() throws IOException {
        // The remedy the message gives works for open(2). AIO itself needs a file with read_iter, which
        // procfs's seq files lack, so io_submit refuses the read: a kernel rule panaio passes on as it is.
        Path path = Path.of("/proc/self/status");
        try (AioFile file = AioFile.open(path); AioContext aio = AioContext.open(4)) {
            assertThat(file.isDirect()).isFalse();
            aio.prepareRead(file, arena.allocate(4096), 0, 1);
            assertThatThrownBy(aio::submit)
                    .isInstanceOfSatisfying(SubmitException.class,
                            e -> assertThat(e.errnoName()).isEqualTo("EINVAL"))
                    .hasMessageContaining("PREAD fd=");
            assertThat(aio.inFlight()).isZero();
        }
    }

    // ------------------------------------------------------------------- poll

    private Path fifo() throws IOException, InterruptedException {
        Path path = dir.resolve("fifo");
        int exit = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start().waitFor();
        assumeTrue(exit == 0, "mkfifo (coreutils) failed or is missing");
        return path;
    }

    @Test
    void shouldCompleteAPollOnAFifoThatIsAlreadyReadableInsideIoSubmit() throws Exception {
        Path path = fifo();
        // O_RDWR: opening a FIFO so never waits for the other end.
        try (AioFile fifo = AioFile.open(path, READ, WRITE); AioContext aio = AioContext.open(4)) {
            try (FileOutputStream writer = new FileOutputStream(path.toFile())) {
                writer.write("hello".getBytes(StandardCharsets.US_ASCII));
            }
            aio.preparePoll(fifo, POLLIN, 1);
            aio.submit();
            List<Long> results = new ArrayList<>();
            assertThat(aio.reap((tag, result) -> results.add(result))).isEqualTo(1);
            assertThat(results).containsExactly((long) POLLIN);

            MemorySegment dst = arena.allocate(16);
            aio.prepareRead(fifo, dst, 0, 2);
            aio.submit();
            assertThat(awaitOne(aio, 2)).isEqualTo(5);
            assertThat(dst.getString(0, StandardCharsets.US_ASCII)).isEqualTo("hello");
        }
    }

    @Test
    void shouldCompleteAPollForWritingOnAFifoInsideIoSubmit() throws Exception {
        Path path = fifo();
        try (AioFile fifo = AioFile.open(path, READ, WRITE); AioContext aio = AioContext.open(4)) {
            aio.preparePoll(fifo, POLLOUT, 1);
            aio.submit();
            List<Long> results = new ArrayList<>();
            assertThat(aio.reap((tag, result) -> results.add(result))).isEqualTo(1);
            assertThat(results).containsExactly((long) POLLOUT);
        }
    }

    /** Opens a FIFO's two ends, each of which waits for the other: the writer on its own thread. */
    private static FileOutputStream openWriterThenReader(Path fifo, AioFile[] reader) throws Exception {
        CompletableFuture<FileOutputStream> writer = CompletableFuture.supplyAsync(() -> {
            try {
                return new FileOutputStream(fifo.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, runnable -> Thread.ofPlatform().start(runnable));
        reader[0] = AioFile.open(fifo, READ);
        return writer.get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldPollTheReadEndOfAFifoUntilTheWriterWrites() throws Exception {
        Path path = fifo();
        AioFile[] reader = new AioFile[1];
        try (FileOutputStream writer = openWriterThenReader(path, reader); AioFile fifo = reader[0];
             AioContext aio = AioContext.open(4)) {
            aio.preparePoll(fifo, POLLIN, 1);
            aio.submit();
            assertThat(aio.reap((tag, result) -> { })).as("empty FIFO: not readable yet").isZero();
            assertThat(aio.inFlight()).isEqualTo(1);
            writer.write("ping".getBytes(StandardCharsets.US_ASCII));
            writer.flush();
            assertThat(awaitOne(aio, 1) & POLLIN).isEqualTo(POLLIN);
        }
    }

    @Test
    void shouldCancelAPendingPollOnTheReadEndOfAFifo() throws Exception {
        Path path = fifo();
        AioFile[] reader = new AioFile[1];
        try (FileOutputStream writer = openWriterThenReader(path, reader); AioFile fifo = reader[0];
             AioContext aio = AioContext.open(4)) {
            aio.preparePoll(fifo, POLLIN, 5);
            aio.submit();
            assertThat(aio.cancel(5)).isTrue();
            assertThat(awaitOne(aio, 5)).as("a cancelled poll completes once, with no events").isZero();
            writer.write(1);
            writer.flush();
            assertThat(aio.reap((tag, result) -> { })).as("and never fires again").isZero();
        }
    }

    @Test
    void shouldHaveAPollThatWouldWaitOnAFifoOpenForReadingAndWritingRejectedByTheKernel() throws Exception {
        // IOCB_CMD_POLL waits on one wait queue only. A pipe's poll registers one per open direction, so a
        // FIFO opened O_RDWR registers two, and a poll that is not ready at once fails in io_submit with
        // EINVAL ("multiple wait queues per file are not supported", fs/aio.c). Open one end only.
        Path path = fifo();
        try (AioFile fifo = AioFile.open(path, READ, WRITE); AioContext aio = AioContext.open(4)) {
            aio.preparePoll(fifo, POLLIN, 1);
            assertThatThrownBy(aio::submit)
                    .isInstanceOfSatisfying(SubmitException.class, e -> {
                        assertThat(e.errnoName()).isEqualTo("EINVAL");
                        assertThat(e.failedTag()).isEqualTo(1);
                    })
                    .hasMessageContaining("(tag 1, POLL fd=");
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldUnlinkRightAfterOpeningWithDeleteOnCloseAndKeepTheFileUsable() throws IOException {
        Path path = dir.resolve("scratch");
        try (AioFile file = AioFile.open(path, CREATE_NEW, READ, WRITE, DELETE_ON_CLOSE)) {
            assertThat(path).doesNotExist();
            file.truncate(4096);
            assertThat(file.size()).isEqualTo(4096);
        }
    }

    @Test
    void shouldRefuseASymbolicLinkWithNoFollowLinksAsTheJdk() throws IOException {
        Path target = Files.write(dir.resolve("target"), new byte[10]);
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        assertThatThrownBy(() -> AioFile.open(link, READ, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                .isInstanceOf(java.nio.file.FileSystemException.class)
                .hasMessageContaining("ELOOP");
        try (AioFile followed = AioFile.open(link, READ)) {
            assertThat(followed.size()).isEqualTo(10);
        }
    }

    @Test
    void shouldRefuseAPathOfAnotherFileSystem() throws IOException {
        try (java.nio.file.FileSystem zipfs = java.nio.file.FileSystems.newFileSystem(dir.resolve("a.zip"),
                java.util.Map.of("create", "true"))) {
            assertThatThrownBy(() -> AioFile.open(zipfs.getPath("/x"), READ))
                    .isInstanceOf(java.nio.file.ProviderMismatchException.class)
                    .hasMessageContaining("operating system's file system");
        }
    }
}
