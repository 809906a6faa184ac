package dev.panaio;

import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the JDK documents for {@link FileChannel}, as tests. Run against the
 * JDK's own implementation too ({@link JdkFileChannelContractTest}), which
 * shows that they test the contract and not panaio's reading of it.
 */
abstract class FileChannelContract {
    static final int SEED = 3;

    @TempDir
    Path dir;

    abstract FileChannel open(Path path, OpenOption... options) throws IOException;

    private Path file(long size) throws IOException {
        return TestData.writeFile(dir.resolve("f"), size, SEED);
    }

    private static ByteBuffer pattern(long position, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        for (int i = 0; i < length; i++) {
            buffer.put(i, TestData.byteAt(position + i, SEED + 1));
        }
        return buffer;
    }

    @Test
    void shouldReadAtAPositionWithoutMovingThePosition() throws IOException {
        try (FileChannel channel = open(file(10_000), READ)) {
            ByteBuffer dst = ByteBuffer.allocate(1000);
            assertThat(channel.read(dst, 5000)).isEqualTo(1000);
            assertThat(dst.position()).isEqualTo(1000);
            assertThat(channel.position()).isZero();
            for (int i = 0; i < 1000; i++) {
                assertThat(dst.get(i)).isEqualTo(TestData.byteAt(5000 + i, SEED));
            }
        }
    }

    @Test
    void shouldReadIntoDirectBuffersAsWellAsHeapBuffers() throws IOException {
        try (FileChannel channel = open(file(10_000), READ)) {
            ByteBuffer dst = ByteBuffer.allocateDirect(777);
            assertThat(channel.read(dst, 1)).isEqualTo(777);
            assertThat(dst.get(776)).isEqualTo(TestData.byteAt(777, SEED));
        }
    }

    @Test
    void shouldReturnMinusOneAtOrPastEndOfFileAndAShortCountAcrossIt() throws IOException {
        try (FileChannel channel = open(file(1000), READ)) {
            assertThat(channel.read(ByteBuffer.allocate(10), 1000)).isEqualTo(-1);
            assertThat(channel.read(ByteBuffer.allocate(10), 5000)).isEqualTo(-1);
            assertThat(channel.read(ByteBuffer.allocate(100), 950)).isEqualTo(50);
            assertThat(channel.read(ByteBuffer.allocate(0), 5000)).isIn(0, -1);
            channel.position(1000);
            assertThat(channel.read(ByteBuffer.allocate(10))).isEqualTo(-1);
        }
    }

    @Test
    void shouldAdvanceThePositionOnRelativeReadsAndWrites() throws IOException {
        try (FileChannel channel = open(file(1000), READ, WRITE)) {
            ByteBuffer dst = ByteBuffer.allocate(300);
            assertThat(channel.read(dst)).isEqualTo(300);
            assertThat(channel.position()).isEqualTo(300);
            assertThat(channel.write(pattern(300, 200))).isEqualTo(200);
            assertThat(channel.position()).isEqualTo(500);
            channel.position(2000);
            assertThat(channel.write(pattern(2000, 10))).isEqualTo(10);
            assertThat(channel.size()).isEqualTo(2010);
        }
    }

    @Test
    void shouldWriteAtAPositionWithoutMovingThePositionAndGrowTheFile() throws IOException {
        Path path = file(100);
        try (FileChannel channel = open(path, READ, WRITE)) {
            ByteBuffer src = pattern(4096, 512);
            assertThat(channel.write(src, 4096)).isEqualTo(512);
            assertThat(src.hasRemaining()).isFalse();
            assertThat(channel.position()).isZero();
            assertThat(channel.size()).isEqualTo(4608);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes[4096]).isEqualTo(TestData.byteAt(4096, SEED + 1));
        assertThat(bytes[200]).isZero();
    }

    @Test
    void shouldAppendAtEndOfFileInAppendMode() throws IOException {
        Path path = file(100);
        try (FileChannel channel = open(path, WRITE, APPEND)) {
            assertThat(channel.write(pattern(0, 50))).isEqualTo(50);
            assertThat(channel.size()).isEqualTo(150);
            assertThat(channel.position()).isEqualTo(150);
        }
        assertThat(Files.readAllBytes(path)[100]).isEqualTo(TestData.byteAt(0, SEED + 1));
    }

    @Test
    void shouldScatterAndGather() throws IOException {
        try (FileChannel channel = open(file(1000), READ, WRITE)) {
            ByteBuffer[] dsts = {ByteBuffer.allocate(10), ByteBuffer.allocate(20)};
            assertThat(channel.read(dsts)).isEqualTo(30);
            assertThat(dsts[1].get(0)).isEqualTo(TestData.byteAt(10, SEED));
            channel.position(0);
            assertThat(channel.write(new ByteBuffer[] {pattern(0, 5), pattern(5, 7)})).isEqualTo(12);
            assertThat(channel.position()).isEqualTo(12);
        }
    }

    @Test
    void shouldTruncateAndPullThePositionBack() throws IOException {
        try (FileChannel channel = open(file(1000), READ, WRITE)) {
            channel.position(800);
            channel.truncate(500);
            assertThat(channel.size()).isEqualTo(500);
            assertThat(channel.position()).isEqualTo(500);
            channel.truncate(900); // truncate never grows a file
            assertThat(channel.size()).isEqualTo(500);
            assertThatThrownBy(() -> channel.truncate(-1)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldForceWithAndWithoutMetadata() throws IOException {
        try (FileChannel channel = open(file(1000), READ, WRITE)) {
            channel.write(pattern(0, 10), 0);
            channel.force(true);
            channel.force(false);
            assertThat(channel.size()).isEqualTo(1000);
        }
    }

    @Test
    void shouldTransferToAndFromOtherChannels() throws IOException {
        Path other = dir.resolve("other");
        try (FileChannel channel = open(file(1000), READ, WRITE);
             FileChannel target = FileChannel.open(other, CREATE, READ, WRITE)) {
            assertThat(channel.transferTo(100, 300, target)).isEqualTo(300);
            assertThat(target.size()).isEqualTo(300);
            target.position(0);
            assertThat(channel.transferFrom(target, 1000, 300)).isEqualTo(300);
            assertThat(channel.size()).isEqualTo(1300);
        }
        assertThat(Files.readAllBytes(other)[0]).isEqualTo(TestData.byteAt(100, SEED));
    }

    @Test
    void shouldMapTheFile() throws IOException {
        try (FileChannel channel = open(file(8192), READ, WRITE)) {
            MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, 4096, 100);
            assertThat(map.get(0)).isEqualTo(TestData.byteAt(4096, SEED));
            assertThat(map.capacity()).isEqualTo(100);
        }
    }

    @Test
    void shouldLockRegionsAndReportThisChannelAsTheOwner() throws IOException {
        try (FileChannel channel = open(file(1000), READ, WRITE)) {
            FileLock lock = channel.lock(0, 100, false);
            assertThat(lock.acquiredBy()).isSameAs(channel);
            assertThat(lock.isValid()).isTrue();
            assertThatThrownBy(() -> channel.tryLock(50, 10, false)).isInstanceOf(OverlappingFileLockException.class);
            FileLock other = channel.tryLock(200, 10, true);
            assertThat(other).isNotNull();
            assertThat(other.isShared()).isTrue();
            lock.release();
            assertThat(lock.isValid()).isFalse();
            other.close();
        }
    }

    @Test
    void shouldRefuseReadsOnWriteOnlyAndWritesOnReadOnlyChannels() throws IOException {
        Path path = file(100);
        try (FileChannel readOnly = open(path, READ); FileChannel writeOnly = open(path, WRITE)) {
            assertThatThrownBy(() -> readOnly.write(ByteBuffer.allocate(1), 0))
                    .isInstanceOf(NonWritableChannelException.class);
            assertThatThrownBy(() -> writeOnly.read(ByteBuffer.allocate(1), 0))
                    .isInstanceOf(NonReadableChannelException.class);
        }
    }

    @Test
    void shouldRejectNegativePositionsAndReadOnlyDestinations() throws IOException {
        try (FileChannel channel = open(file(100), READ, WRITE)) {
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(1), -1))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> channel.write(ByteBuffer.allocate(1), -1))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(1).asReadOnlyBuffer(), 0))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> channel.position(-1)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldThrowClosedChannelExceptionOnceClosed() throws IOException {
        FileChannel channel = open(file(100), READ, WRITE);
        channel.close();
        channel.close();
        assertThat(channel.isOpen()).isFalse();
        assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(1), 0)).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> channel.write(ByteBuffer.allocate(1))).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(channel::size).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(channel::position).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void shouldCloseTheChannelWhenAReadingThreadIsInterrupted() throws IOException {
        FileChannel channel = open(file(100), READ);
        try {
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(10), 0))
                    .isInstanceOf(ClosedByInterruptException.class);
            assertThat(Thread.interrupted()).as("the interrupt status stays set").isTrue();
            assertThat(channel.isOpen()).isFalse();
        } finally {
            Thread.interrupted();
            channel.close();
        }
    }

    @Test
    void shouldCloseTheChannelWhenAVirtualThreadIsInterrupted() throws Exception {
        FileChannel channel = open(file(100), READ);
        Throwable[] thrown = new Throwable[1];
        Thread reader = Thread.ofVirtual().unstarted(() -> {
            Thread.currentThread().interrupt();
            try {
                channel.read(ByteBuffer.allocate(10), 0);
            } catch (Throwable t) {
                thrown[0] = t;
            }
        });
        reader.start();
        reader.join();
        assertThat(thrown[0]).isInstanceOf(ClosedByInterruptException.class);
        assertThat(channel.isOpen()).isFalse();
    }
}
