package dev.panaio;

import dev.panaio.testing.OpenDescriptors;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
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

    /** As {@link FileChannel#open(Path, Set, FileAttribute[])}. */
    abstract FileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException;

    private Path file(long size) throws IOException {
        return TestData.writeFile(dir.resolve("f"), size, SEED);
    }

    static ByteBuffer pattern(long position, int length) {
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

    // ---- issue 8, §2: one descriptor, opened once, with every option the JDK accepts

    @Test
    void shouldAcceptDeleteOnCloseWithCreateAndUnlinkTheFileRightAfterOpening() throws IOException {
        Path path = dir.resolve("scratch");
        try (FileChannel channel = open(path, CREATE, READ, WRITE, DELETE_ON_CLOSE)) {
            assertThat(path).as("the JDK unlinks the file right after opening it, on Linux").doesNotExist();
            assertThat(channel.write(pattern(0, 100), 0)).isEqualTo(100);
            ByteBuffer back = ByteBuffer.allocate(100);
            assertThat(channel.read(back, 0)).isEqualTo(100);
            assertThat(back.flip()).isEqualTo(pattern(0, 100));
        }
        assertThat(path).doesNotExist();
    }

    @Test
    void shouldAcceptDeleteOnCloseWithCreateNew() throws IOException {
        Path path = dir.resolve("scratch");
        try (FileChannel channel = open(path, CREATE_NEW, WRITE, DELETE_ON_CLOSE)) {
            assertThat(path).doesNotExist();
            assertThat(channel.write(pattern(0, 10))).isEqualTo(10);
            assertThat(channel.size()).isEqualTo(10);
        }
        assertThat(path).doesNotExist();
    }

    @Test
    void shouldHoldExactlyOneDescriptorPerOpenChannel() throws IOException {
        Path path = file(100);
        try (FileChannel warmUp = open(path, READ)) {
            warmUp.read(ByteBuffer.allocate(1), 0); // starts whatever a first channel starts (panaio's shared engine)
        }
        int before = OpenDescriptors.on(path);
        List<FileChannel> channels = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                channels.add(open(path, READ, WRITE));
            }
            assertThat(OpenDescriptors.on(path) - before).as("descriptors on the file for 20 open channels")
                    .isEqualTo(20);
        } finally {
            for (FileChannel channel : channels) {
                channel.close();
            }
        }
        assertThat(OpenDescriptors.on(path)).isEqualTo(before);
    }

    @Test
    void shouldGiveBackTheDescriptorsOfChannelsDroppedWithoutClose() throws Exception {
        Path path = file(100);
        int before = OpenDescriptors.on(path);
        openAndDrop(path, 50);
        int after = OpenDescriptors.awaitOn(path, n -> n <= before, true, 10_000);
        assertThat(after).as("descriptors still open on the file 10 s after dropping 50 channels, gc run")
                .isEqualTo(before);
    }

    /** Opens channels and lets them become unreachable without closing them. */
    private void openAndDrop(Path path, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            FileChannel dropped = open(path, READ);
            assertThat(dropped.size()).isEqualTo(100);
        }
    }

    @Test
    void shouldCloseTheChannelWhenARelativeReadIsInterrupted() throws IOException {
        FileChannel channel = open(file(100), READ);
        try {
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(10)))
                    .isInstanceOf(ClosedByInterruptException.class);
            assertThat(Thread.interrupted()).as("the interrupt status stays set").isTrue();
            assertThat(channel.isOpen()).isFalse();
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(10), 0))
                    .isInstanceOf(ClosedChannelException.class);
        } finally {
            Thread.interrupted();
            channel.close();
        }
    }

    @Test
    void shouldRefuseToFollowASymbolicLinkWithNoFollowLinks() throws IOException {
        Path target = file(100);
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        // The JDK throws a plain IOException here ("Too many levels of symbolic links (NOFOLLOW_LINKS
        // specified)"), not a FileSystemException naming the file.
        assertThatThrownBy(() -> open(link, READ, LinkOption.NOFOLLOW_LINKS).close())
                .isInstanceOf(IOException.class);
        try (FileChannel followed = open(link, READ)) {
            assertThat(followed.size()).isEqualTo(100);
        }
    }

    @Test
    void shouldCreateTheFileWithThePosixPermissionsGiven() throws IOException {
        Path path = dir.resolve("owner-read-only");
        // 0400: neither the default mode (0666 less the umask) nor anything a umask makes of it
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString("r--------");
        try (FileChannel channel = open(path, Set.of(CREATE_NEW, WRITE), PosixFilePermissions.asFileAttribute(mode))) {
            assertThat(channel.write(pattern(0, 10))).isEqualTo(10);
        }
        assertThat(Files.getPosixFilePermissions(path)).isEqualTo(mode);
        assertThat(Files.size(path)).isEqualTo(10);
    }

    @Test
    void shouldStayOpenWhenTheSourceOfATransferIsClosedAsynchronously() throws Exception {
        Pipe pipe = Pipe.open();
        Path path = dir.resolve("target");
        try (FileChannel channel = open(path, CREATE_NEW, READ, WRITE)) {
            // Nothing is written to the pipe first: once bytes have moved, the JDK's transferFrom returns their
            // count instead of throwing.
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread transferring = new Thread(() -> {
                try {
                    channel.transferFrom(pipe.source(), 0, 1000);
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            transferring.start();
            Thread.sleep(200); // blocked reading the empty pipe
            pipe.source().close();
            transferring.join(10_000);
            assertThat(transferring.isAlive()).as("transferFrom still blocked 10 s after its source closed").isFalse();
            assertThat(thrown.get()).isInstanceOf(ClosedChannelException.class);
            assertThat(channel.isOpen()).as("the source closed, not this channel").isTrue();
            assertThat(channel.write(pattern(0, 10), 0)).isEqualTo(10);
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    @Test
    void shouldStayOpenWhenTheTargetOfATransferIsClosedAsynchronously() throws Exception {
        Pipe pipe = Pipe.open();
        try (FileChannel channel = open(file(1 << 20), READ)) {
            pipe.sink().configureBlocking(false);
            while (pipe.sink().write(ByteBuffer.allocate(4096)) > 0) {
                // fill the pipe, so that the transfer blocks writing to it
            }
            pipe.sink().configureBlocking(true);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread transferring = new Thread(() -> {
                try {
                    channel.transferTo(0, 1 << 20, pipe.sink());
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            transferring.start();
            Thread.sleep(200); // blocked writing to the full pipe
            pipe.sink().close();
            transferring.join(10_000);
            assertThat(transferring.isAlive()).as("transferTo still blocked 10 s after its target closed").isFalse();
            assertThat(thrown.get()).isInstanceOf(ClosedChannelException.class);
            assertThat(channel.isOpen()).as("the target closed, not this channel").isTrue();
            assertThat(channel.read(ByteBuffer.allocate(10), 0)).isEqualTo(10);
        } finally {
            pipe.sink().close();
            pipe.source().close();
        }
    }

    // ---- found by the final review, each as the JDK's channel does it

    @Test
    void shouldFailAReadOrWriteWhoseEndOverflowsWithAnIoExceptionAsTheJdk() throws IOException {
        Path path = file(100);
        try (FileChannel channel = open(path, READ, WRITE)) {
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(100), Long.MAX_VALUE - 10))
                    .isInstanceOf(IOException.class).hasMessageStartingWith("Invalid argument");
            assertThatThrownBy(() -> channel.write(ByteBuffer.allocate(100), Long.MAX_VALUE - 10))
                    .isInstanceOf(IOException.class).hasMessageStartingWith("Invalid argument");
        }
    }

    @Test
    void shouldSayADirectoryExistsForCreateNewAsTheJdk() throws IOException {
        Path directory = Files.createDirectory(dir.resolve("a-directory"));
        assertThatThrownBy(() -> open(directory, WRITE, CREATE_NEW))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
    }
}
