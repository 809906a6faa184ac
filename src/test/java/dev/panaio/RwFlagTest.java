package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.sys.MountTable;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the kernel does with each rw flag, through {@link AioContext}: on the
 * build disk (ext4) unless a test says otherwise.
 */
class RwFlagTest {
    private static final int SEED = 5;
    private static final long EAGAIN = aio_abi_h.EAGAIN();
    private static final long EOPNOTSUPP = aio_abi_h.EOPNOTSUPP();

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

    private static RequestOptions with(RwFlag flag) {
        return RequestOptions.NONE.withFlags(flag);
    }

    private static long awaitOne(AioContext aio) {
        long[] result = {Long.MIN_VALUE};
        assertThat(aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> result[0] = res)).isEqualTo(1);
        return result[0];
    }

    private long read(AioContext aio, AioFile file, MemorySegment dst, long position, RequestOptions options)
            throws IOException {
        aio.prepareRead(file, dst, position, 1, options);
        aio.submit();
        return awaitOne(aio);
    }

    private long write(AioContext aio, AioFile file, MemorySegment src, long position, RequestOptions options)
            throws IOException {
        aio.prepareWrite(file, src, position, 1, options);
        aio.submit();
        return awaitOne(aio);
    }

    @Test
    void shouldMatchTheKernelsRwfValues() {
        assertThat(RwFlag.HIPRI.bits()).isEqualTo(0x1);
        assertThat(RwFlag.DSYNC.bits()).isEqualTo(0x2);
        assertThat(RwFlag.SYNC.bits()).isEqualTo(0x4);
        assertThat(RwFlag.NOWAIT.bits()).isEqualTo(0x8);
        assertThat(RwFlag.APPEND.bits()).isEqualTo(0x10);
        assertThat(RwFlag.NOAPPEND.bits()).isEqualTo(0x20);
        assertThat(RwFlag.DONTCACHE.bits()).isEqualTo(0x80);
    }

    // ----------------------------------------------------------------- NOWAIT

    /**
     * The NOWAIT read of an evicted page starts its readahead before it
     * answers, and where that completes first the page is read: right, but
     * not the EAGAIN under test, so it is tried again ({@link PageCache#untilAMiss}).
     */
    @Test
    void shouldAnswerEagainForANowaitReadOfPagesNotInThePageCacheAndTheCountOnceCached() throws Exception {
        Path path = TestData.writeFile(dir.resolve("nowait"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ)) {
            MemorySegment dst = arena.allocate(4096);
            PageCache.untilAMiss(path, 0, () -> {
                dst.fill((byte) 0);
                long answer = read(aio, file, dst, 0, with(RwFlag.NOWAIT));
                if (answer == -EAGAIN) {
                    return true; // uncached: would block
                }
                assertThat(answer).as("uncached: EAGAIN, or the page its readahead brought in").isEqualTo(4096);
                assertThat(TestData.firstMismatch(dst, 0, SEED)).isEqualTo(-1);
                return false;
            });

            assertThat(read(aio, file, dst, 0, RequestOptions.NONE)).as("a blocking read caches it").isEqualTo(4096);
            dst.fill((byte) 0);
            assertThat(read(aio, file, dst, 0, with(RwFlag.NOWAIT))).as("cached: served at once").isEqualTo(4096);
            assertThat(TestData.firstMismatch(dst, 0, SEED)).isEqualTo(-1);
        }
    }

    @Test
    void shouldAnswerEopnotsuppForANowaitBufferedWriteOnExt4() throws IOException {
        Path path = TestData.writeFile(dir.resolve("nowait-write"), 4096, SEED);
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ, WRITE)) {
            MemorySegment src = arena.allocate(4096);
            assertThat(write(aio, file, src, 0, with(RwFlag.NOWAIT))).isEqualTo(-EOPNOTSUPP);
        }
    }

    @Test
    void shouldAnswerEagainForANowaitDirectWriteThatExtendsTheFile() throws IOException {
        Path path = dir.resolve("nowait-extend");
        try (AioContext aio = AioContext.open(4);
             AioFile file = AioFile.open(path, CREATE, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment src = arena.allocate(4096, 4096);
            assertThat(write(aio, file, src, 0, with(RwFlag.NOWAIT))).as("would allocate blocks").isEqualTo(-EAGAIN);
            assertThat(write(aio, file, src, 0, RequestOptions.NONE)).isEqualTo(4096);
            assertThat(write(aio, file, src, 0, with(RwFlag.NOWAIT))).as("overwrite in place").isEqualTo(4096);
        }
    }

    @Test
    void shouldRejectNowaitOnTmpfsInIoSubmitWithEopnotsupp() throws IOException {
        // This test is about tmpfs: its files do not take RWF_NOWAIT at all, so io_submit itself refuses the
        // request (kiocb_set_rw_flags, before any I/O), rather than completing it with an error.
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && "tmpfs".equals(MountTable.filesystemType(shm)),
                "/dev/shm is not a tmpfs here");
        Path path = Files.createTempFile(shm, "panaio-nowait", ".bin");
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ, WRITE)) {
            Files.write(path, new byte[4096]);
            aio.prepareRead(file, arena.allocate(4096), 0, 77, with(RwFlag.NOWAIT));
            assertThatThrownBy(aio::submit)
                    .isInstanceOfSatisfying(SubmitException.class, e -> {
                        assertThat(e.errno()).isEqualTo(EOPNOTSUPP);
                        assertThat(e.errnoName()).isEqualTo("EOPNOTSUPP");
                        assertThat(e.failedTag()).isEqualTo(77);
                        assertThat(e.accepted()).isZero();
                    })
                    .hasMessageContaining("(tag 77, PREAD fd=")
                    .hasMessageContaining("rw_flags=0x8)")
                    .hasMessageContaining("EOPNOTSUPP (Operation not supported)");
            assertThat(aio.inFlight()).isZero();
        } finally {
            Files.delete(path);
        }
    }

    // ---------------------------------------------------------- APPEND family

    @Test
    void shouldAppendAWriteWithAppendWhateverItsPosition() throws IOException {
        Path path = TestData.writeFile(dir.resolve("rwf-append"), 100, SEED);
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ, WRITE)) {
            MemorySegment src = arena.allocate(10);
            TestData.fill(src, 0, SEED + 1);
            assertThat(write(aio, file, src, 0, with(RwFlag.APPEND))).isEqualTo(10);
            assertThat(file.size()).isEqualTo(110);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes[0]).isEqualTo(TestData.byteAt(0, SEED));
        assertThat(bytes[100]).isEqualTo(TestData.byteAt(0, SEED + 1));
    }

    @Test
    void shouldHonourThePositionOfANoappendWriteOnAnAppendOnlyFile() throws IOException {
        Path path = TestData.writeFile(dir.resolve("rwf-noappend"), 100, SEED);
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, APPEND)) {
            MemorySegment src = arena.allocate(10);
            TestData.fill(src, 0, SEED + 1);
            assertThat(write(aio, file, src, 0, with(RwFlag.NOAPPEND))).isEqualTo(10);
            assertThat(file.size()).as("written in place, not appended").isEqualTo(100);
        }
        assertThat(Files.readAllBytes(path)[0]).isEqualTo(TestData.byteAt(0, SEED + 1));
    }

    // ----------------------------------------------------------- the others

    @Test
    void shouldCompleteDsyncAndSyncWritesInFull() throws IOException {
        Path path = TestData.writeFile(dir.resolve("sync-writes"), 8192, SEED);
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ, WRITE)) {
            MemorySegment src = arena.allocate(4096);
            assertThat(write(aio, file, src, 0, with(RwFlag.DSYNC))).isEqualTo(4096);
            assertThat(write(aio, file, src, 4096, with(RwFlag.SYNC))).isEqualTo(4096);
        }
    }

    @Test
    void shouldIgnoreHipriBecauseNothingPollsAnAioRequest() throws IOException {
        // fs/aio.c clears IOCB_HIPRI after taking the flags: polled completion is io_uring's business.
        Path path = TestData.writeFile(dir.resolve("hipri"), 4096, SEED);
        try (AioContext aio = AioContext.open(4);
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            MemorySegment dst = arena.allocate(4096, 4096);
            assertThat(read(aio, file, dst, 0, with(RwFlag.HIPRI))).isEqualTo(4096);
            assertThat(TestData.firstMismatch(dst, 0, SEED)).isEqualTo(-1);
        }
    }

    @Test
    void shouldReadAndWriteWithDontcacheOnExt4() throws IOException {
        Path path = TestData.writeFile(dir.resolve("dontcache"), 8192, SEED);
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ, WRITE)) {
            MemorySegment buffer = arena.allocate(4096);
            assertThat(read(aio, file, buffer, 0, with(RwFlag.DONTCACHE))).isEqualTo(4096);
            assertThat(TestData.firstMismatch(buffer, 0, SEED)).isEqualTo(-1);
            assertThat(write(aio, file, buffer, 4096, with(RwFlag.DONTCACHE))).isEqualTo(4096);
        }
    }
}
