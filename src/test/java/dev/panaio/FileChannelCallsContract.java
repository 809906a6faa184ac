package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;

import static dev.panaio.FileChannelContract.pattern;
import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * What the JDK documents for {@link FileChannel}, as tests, continued from
 * {@link FileChannelContract}: the JDK's checks even when no byte moves,
 * scattering and gathering, and the calls on the channel's descriptor
 * (size, truncate, force, locks). Run against the JDK's own implementation too
 * ({@link JdkFileChannelCallsContractTest}).
 */
abstract class FileChannelCallsContract {
    static final int SEED = FileChannelContract.SEED;

    @TempDir
    Path dir;

    abstract FileChannel open(Path path, OpenOption... options) throws IOException;

    /** As {@link FileChannel#open(Path, Set, FileAttribute[])}. */
    abstract FileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException;

    private Path file(long size) throws IOException {
        return TestData.writeFile(dir.resolve("f"), size, SEED);
    }

    // ---- issue 8, §3: the JDK's checks, even when no byte moves

    @Test
    void shouldRefuseAZeroByteTransferFromAChannelNotOpenForReading() throws IOException {
        Path other = TestData.writeFile(dir.resolve("other"), 100, SEED);
        try (FileChannel target = open(file(100), READ, WRITE); FileChannel writeOnly = open(other, WRITE)) {
            assertThatThrownBy(() -> target.transferFrom(writeOnly, 0, 0))
                    .isInstanceOf(NonReadableChannelException.class);
        }
    }

    @Test
    void shouldRefuseAZeroByteTransferToAChannelNotOpenForWriting() throws IOException {
        Path other = TestData.writeFile(dir.resolve("other"), 100, SEED);
        try (FileChannel source = open(file(100), READ); FileChannel readOnly = open(other, READ)) {
            assertThatThrownBy(() -> source.transferTo(0, 0, readOnly))
                    .isInstanceOf(NonWritableChannelException.class);
        }
    }

    @Test
    void shouldCheckAccessOnScatteringAndGatheringCallsWithEmptyBuffers() throws IOException {
        Path path = file(100);
        ByteBuffer[] empty = {ByteBuffer.allocate(0)};
        try (FileChannel writeOnly = open(path, WRITE); FileChannel readOnly = open(path, READ)) {
            assertThatThrownBy(() -> writeOnly.read(empty)).isInstanceOf(NonReadableChannelException.class);
            assertThatThrownBy(() -> readOnly.write(empty)).isInstanceOf(NonWritableChannelException.class);
        }
    }

    @Test
    void shouldThrowClosedChannelExceptionOnScatteringAndGatheringCallsWithEmptyBuffers() throws IOException {
        FileChannel channel = open(file(100), READ, WRITE);
        channel.close();
        ByteBuffer[] empty = {ByteBuffer.allocate(0)};
        assertThatThrownBy(() -> channel.read(empty)).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> channel.write(empty)).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void shouldThrowAnIOExceptionForAMisalignedPositionOrLengthOnADirectChannel() throws IOException {
        Path path = file(1 << 16);
        // Position 1 and length 1 break any direct I/O alignment; the buffer itself is aligned to the
        // filesystem's block size, which the JDK requires (panaio's own alignment may be smaller).
        int block = Math.toIntExact(Files.getFileStore(path).getBlockSize());
        ByteBuffer buffer = ByteBuffer.allocateDirect(2 * block).alignedSlice(block).limit(block);
        try (FileChannel channel = open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            // The JDK's wording leads the message (the block size itself may differ: panaio's is statx's).
            assertThatThrownBy(() -> channel.read(buffer.clear().limit(block), 1)).isInstanceOf(IOException.class)
                    .hasMessageStartingWith("Channel position (1) is not a multiple of the block size (");
            assertThatThrownBy(() -> channel.read(buffer.clear().limit(1), 0)).isInstanceOf(IOException.class)
                    .hasMessageStartingWith("Number of remaining bytes (1) is not a multiple of the block size (");
            assertThatThrownBy(() -> channel.write(buffer.clear().limit(block), 1)).isInstanceOf(IOException.class)
                    .hasMessageStartingWith("Channel position (1) is not a multiple of the block size (");
            assertThatThrownBy(() -> channel.write(buffer.clear().limit(1), 0)).isInstanceOf(IOException.class)
                    .hasMessageStartingWith("Number of remaining bytes (1) is not a multiple of the block size (");
        }
    }

    // ---- scattering and gathering (issue 12): one readv/writev per call, as the JDK's

    @Test
    void shouldScatterIntoTheFirst1024BuffersThatHaveRoomAndStopThere() throws IOException {
        try (FileChannel channel = open(file(10_000), READ)) {
            // 1800 buffers, every third empty: the call fills the first 1024 non-empty ones (IOV_MAX) and returns.
            ByteBuffer[] dsts = new ByteBuffer[1800];
            for (int i = 0; i < dsts.length; i++) {
                dsts[i] = ByteBuffer.allocate(i % 3 == 2 ? 0 : 4);
            }
            channel.position(10);
            assertThat(channel.read(dsts, 0, dsts.length)).isEqualTo(4096);
            assertThat(channel.position()).isEqualTo(10 + 4096);
            long at = 10;
            int filled = 0;
            for (ByteBuffer dst : dsts) {
                if (dst.capacity() == 0) {
                    continue;
                }
                if (filled++ < 1024) {
                    assertThat(dst.position()).isEqualTo(4);
                    for (int k = 0; k < 4; k++) {
                        assertThat(dst.get(k)).isEqualTo(TestData.byteAt(at + k, SEED));
                    }
                    at += 4;
                } else {
                    assertThat(dst.position()).as("buffer %d, past IOV_MAX", filled).isZero();
                }
            }
        }
    }

    @Test
    void shouldGatherFromTheFirst1024BuffersThatHaveBytesAndStopThere() throws IOException {
        Path path = file(0);
        try (FileChannel channel = open(path, WRITE)) {
            ByteBuffer[] srcs = new ByteBuffer[1100];
            for (int i = 0; i < srcs.length; i++) {
                srcs[i] = i == 0 ? ByteBuffer.allocate(0) : pattern(3L * (i - 1), 3);
            }
            channel.position(5);
            assertThat(channel.write(srcs, 0, srcs.length)).isEqualTo(3 * 1024);
            assertThat(channel.position()).isEqualTo(5 + 3 * 1024);
            assertThat(srcs[1024].remaining()).isZero();
            assertThat(srcs[1025].remaining()).as("past IOV_MAX, not written").isEqualTo(3);
            assertThat(channel.write(srcs, 1025, 75)).isEqualTo(3 * 75);
            assertThat(channel.position()).isEqualTo(5 + 3 * 1099);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes).hasSize(5 + 3 * 1099);
        for (int i = 0; i < 3 * 1099; i++) {
            assertThat(bytes[5 + i]).isEqualTo(TestData.byteAt(i, SEED + 1));
        }
    }

    @Test
    void shouldScatterUpToEndOfFileThenAnswerMinusOneAndZeroForNoRoom() throws IOException {
        try (FileChannel channel = open(file(100), READ)) {
            ByteBuffer[] dsts = {ByteBuffer.allocate(8), ByteBuffer.allocateDirect(8), ByteBuffer.allocate(8)};
            channel.position(90);
            assertThat(channel.read(dsts)).isEqualTo(10);
            assertThat(channel.position()).isEqualTo(100);
            assertThat(dsts[0].position()).isEqualTo(8);
            assertThat(dsts[1].position()).isEqualTo(2);
            assertThat(dsts[2].position()).isZero();
            assertThat(dsts[1].get(1)).isEqualTo(TestData.byteAt(99, SEED));
            assertThat(channel.read(dsts)).as("at end of file").isEqualTo(-1);
            assertThat(channel.position()).isEqualTo(100);
            ByteBuffer[] full = {ByteBuffer.allocate(0), ByteBuffer.allocate(4).position(4)};
            assertThat(channel.read(full)).as("no room, at end of file").isZero();
            channel.position(0);
            assertThat(channel.read(full)).as("no room").isZero();
            assertThat(channel.position()).isZero();
        }
    }

    @Test
    void shouldGatherAtTheEndOfFileInAppendMode() throws IOException {
        Path path = file(100);
        try (FileChannel channel = open(path, WRITE, APPEND)) {
            assertThat(channel.write(new ByteBuffer[] {pattern(0, 5), ByteBuffer.allocate(0), pattern(5, 7)}))
                    .isEqualTo(12);
            assertThat(channel.position()).isEqualTo(112);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes).hasSize(112);
        assertThat(bytes[100 + 6]).isEqualTo(TestData.byteAt(6, SEED + 1));
    }

    @Test
    void shouldScatterAndGatherAlignedBuffersOnADirectChannelAndRefuseAMisalignedLength() throws IOException {
        Path path = file(1 << 16);
        int block = Math.toIntExact(Files.getFileStore(path).getBlockSize());
        try (FileChannel channel = open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            ByteBuffer[] srcs = new ByteBuffer[3];
            for (int i = 0; i < srcs.length; i++) {
                ByteBuffer aligned = ByteBuffer.allocateDirect(2 * block).alignedSlice(block).limit(block);
                srcs[i] = aligned.put(pattern((long) i * block, block)).flip();
            }
            channel.position(block);
            assertThat(channel.write(srcs)).isEqualTo(3L * block);
            assertThat(channel.position()).isEqualTo(4L * block);

            ByteBuffer[] dsts = new ByteBuffer[2];
            for (int i = 0; i < dsts.length; i++) {
                dsts[i] = ByteBuffer.allocateDirect(4 * block).alignedSlice(block).limit(i == 0 ? block : 2 * block);
            }
            channel.position(block);
            assertThat(channel.read(dsts)).isEqualTo(3L * block);
            assertThat(channel.position()).isEqualTo(4L * block);
            for (int k = 0; k < 2 * block; k += 97) {
                assertThat(dsts[1].get(k)).isEqualTo(TestData.byteAt(block + k, SEED + 1));
            }

            ByteBuffer[] misaligned = {dsts[0].clear().limit(block), dsts[1].clear().limit(1)};
            assertThatThrownBy(() -> channel.read(misaligned)).isInstanceOf(IOException.class)
                    .hasMessageStartingWith("Number of remaining bytes (1) is not a multiple of the block size (");
            assertThat(misaligned[0].position()).as("nothing moved").isZero();
            assertThat(channel.position()).isEqualTo(4L * block);
        }
    }

    // ---- the descriptor's own calls, beside the JDK's (issue 8, §2)

    @Test
    void shouldRefuseConflictingOptionsAndUnsupportedAttributesAsTheJdk() throws IOException {
        Path path = file(100);
        assertThatThrownBy(() -> open(path, READ, APPEND)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> open(path, APPEND, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING))
                .isInstanceOf(IllegalArgumentException.class);
        FileAttribute<String> owner = new FileAttribute<>() {
            @Override
            public String name() {
                return "posix:owner";
            }

            @Override
            public String value() {
                return "root";
            }
        };
        assertThatThrownBy(() -> open(path, Set.of(READ), owner)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> open(dir.resolve("missing"), READ))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);
        assertThatThrownBy(() -> open(path, CREATE_NEW, WRITE))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
        assertThatThrownBy(() -> open(dir, WRITE)).isInstanceOf(java.nio.file.FileSystemException.class);
    }

    @Test
    void shouldReportTheSizeAsThePositionInAppendMode() throws IOException {
        try (FileChannel channel = open(file(100), APPEND)) {
            assertThat(channel.position()).isEqualTo(100);
            assertThat(channel.write(pattern(0, 10))).isEqualTo(10);
            assertThat(channel.position()).isEqualTo(110);
            assertThat(channel.size()).isEqualTo(110);
        }
    }

    @Test
    void shouldTruncateWithoutEverExtendingAndMoveThePositionDown() throws IOException {
        try (FileChannel channel = open(file(1000), READ, WRITE)) {
            channel.position(800);
            channel.truncate(2000);
            assertThat(channel.size()).as("truncate never extends").isEqualTo(1000);
            assertThat(channel.position()).isEqualTo(800);
            channel.truncate(500);
            assertThat(channel.size()).isEqualTo(500);
            assertThat(channel.position()).isEqualTo(500);
            assertThatThrownBy(() -> channel.truncate(-1)).isInstanceOf(IllegalArgumentException.class);
        }
        try (FileChannel readOnly = open(dir.resolve("f"), READ)) {
            assertThatThrownBy(() -> readOnly.truncate(0)).isInstanceOf(NonWritableChannelException.class);
        }
    }

    /**
     * A procfs file reports size 0 yet has content: a transfer from position 0
     * copies until its end, one from past the reported size copies nothing.
     */
    @Test
    void shouldTransferToUntilEndOfFileFromAFileWhoseSizeReadsAsZero() throws IOException {
        Path proc = Path.of("/proc/self/cmdline");
        assumeThat(Files.isReadable(proc)).as("procfs is mounted").isTrue();
        Path other = dir.resolve("copy");
        try (FileChannel source = open(proc, READ); FileChannel target = open(other, CREATE_NEW, WRITE)) {
            assertThat(source.size()).as("procfs reports no size").isZero();
            long copied = source.transferTo(0, 1 << 20, target);
            assertThat(copied).as("bytes copied until the end of the file").isPositive();
            assertThat(source.transferTo(1, 1 << 20, target)).as("past the reported size").isZero();
        }
        assertThat(Files.readAllBytes(other)).isEqualTo(Files.readAllBytes(proc));
    }

    @Test
    void shouldTransferToWithoutMovingThisChannelsPosition() throws IOException {
        Path other = dir.resolve("copy");
        try (FileChannel source = open(file(100_000), READ); FileChannel target = open(other, CREATE_NEW, WRITE)) {
            source.position(7);
            assertThat(source.transferTo(1000, 90_000, target)).isEqualTo(90_000);
            assertThat(source.position()).isEqualTo(7);
            assertThat(target.position()).isEqualTo(90_000);
            assertThat(source.transferTo(100_001, 10, target)).as("past the end").isZero();
            assertThat(source.transferTo(99_990, 100, target)).as("across the end").isEqualTo(10);
        }
        byte[] copied = Files.readAllBytes(other);
        assertThat(copied).hasSize(90_010);
        for (int i = 0; i < 90_000; i += 997) {
            assertThat(copied[i]).isEqualTo(TestData.byteAt(1000 + i, SEED));
        }
    }

    @Test
    void shouldTransferFromTheSourcesPositionAndAdvanceIt() throws IOException {
        Path source = TestData.writeFile(dir.resolve("source"), 50_000, SEED);
        try (FileChannel src = open(source, READ); FileChannel target = open(dir.resolve("t"), CREATE_NEW, READ,
                WRITE)) {
            src.position(1000);
            target.position(3);
            assertThat(target.transferFrom(src, 100, 20_000)).isEqualTo(20_000);
            assertThat(src.position()).isEqualTo(21_000);
            assertThat(target.position()).as("this channel's position stays").isEqualTo(3);
            assertThat(target.size()).as("a transfer beyond the end extends the file").isEqualTo(20_100);
            ByteBuffer back = ByteBuffer.allocate(1);
            target.read(back, 100 + 5000);
            assertThat(back.get(0)).isEqualTo(TestData.byteAt(1000 + 5000, SEED));
        }
    }

    @Test
    void shouldMapWithTheJdksModeRules() throws IOException {
        Path path = file(1000);
        try (FileChannel readOnly = open(path, READ)) {
            MappedByteBuffer map = readOnly.map(FileChannel.MapMode.READ_ONLY, 10, 100);
            assertThat(map.isReadOnly()).isTrue();
            assertThat(map.get(0)).isEqualTo(TestData.byteAt(10, SEED));
            assertThatThrownBy(() -> readOnly.map(FileChannel.MapMode.READ_WRITE, 0, 10))
                    .isInstanceOf(NonWritableChannelException.class);
            assertThatThrownBy(() -> readOnly.map(FileChannel.MapMode.PRIVATE, 0, 10))
                    .isInstanceOf(NonWritableChannelException.class);
        }
        try (FileChannel writeOnly = open(path, WRITE)) {
            assertThatThrownBy(() -> writeOnly.map(FileChannel.MapMode.READ_ONLY, 0, 10))
                    .isInstanceOf(NonReadableChannelException.class);
        }
        MappedByteBuffer map;
        try (FileChannel channel = open(path, READ, WRITE)) {
            map = channel.map(FileChannel.MapMode.READ_WRITE, 0, 2000);
            assertThat(channel.size()).as("mapping beyond the end extends the file").isEqualTo(2000);
        }
        map.put(1500, (byte) 42); // the mapping outlives the channel
        map.force();
        assertThat(Files.readAllBytes(path)[1500]).isEqualTo((byte) 42);
    }

    @Test
    void shouldCheckLockRequestsAsTheJdk() throws IOException {
        Path path = file(100);
        try (FileChannel readOnly = open(path, READ); FileChannel writeOnly = open(path, WRITE)) {
            assertThatThrownBy(() -> readOnly.lock(0, 10, false)).isInstanceOf(NonWritableChannelException.class);
            assertThatThrownBy(() -> writeOnly.tryLock(0, 10, true)).isInstanceOf(NonReadableChannelException.class);
            assertThatThrownBy(() -> writeOnly.tryLock(-1, 10, false)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldReleaseAndInvalidateLocksAsTheJdk() throws IOException {
        Path path = file(100);
        FileChannel channel = open(path, READ, WRITE);
        FileLock whole = channel.lock();
        assertThat(whole.size()).isEqualTo(Long.MAX_VALUE);
        assertThat(whole.acquiredBy()).isSameAs(channel);
        assertThatThrownBy(() -> channel.tryLock(5, 5, true)).isInstanceOf(OverlappingFileLockException.class);
        whole.release();
        assertThat(whole.isValid()).isFalse();
        FileLock part = channel.tryLock(10, 10, true);
        assertThat(part).isNotNull();
        assertThat(part.isShared()).isTrue();
        assertThat(channel.tryLock(20, 10, false)).as("a range next to it").isNotNull();
        channel.close();
        assertThat(part.isValid()).as("closing the channel releases its locks").isFalse();
        assertThatThrownBy(part::release).isInstanceOf(ClosedChannelException.class);
        try (FileChannel again = open(path, READ, WRITE)) {
            FileLock relocked = again.tryLock(0, 100, false);
            assertThat(relocked).isNotNull();
            relocked.release();
        }
    }
}
