package dev.panaio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link AioFile#preallocate}, {@link AioFile#punchHole} and {@link AioFile#advise}, and the channel's
 * preallocate and punchHole: what the kernel did is read back from the filesystem (allocated blocks from
 * {@code stat}, holes from {@code lseek(SEEK_HOLE / SEEK_DATA)}). Advice has {@link AdviceTest}, the refusal
 * that names the filesystem {@link FileOperationUnsupportedExceptionTest}.
 */
class AioFileSpaceTest {
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final MethodHandle LSEEK = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("lseek").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle OPEN = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    @TempDir
    Path dir;

    /** Allocated bytes, from stat(1)'s st_blocks (512-byte units), as the filesystem reports them. */
    private static long allocatedBytes(Path path) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-c", "%b", path.toString()).redirectErrorStream(true).start();
        String out = new String(stat.getInputStream().readAllBytes()).trim();
        assertThat(stat.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(stat.exitValue()).as(out).isZero();
        return Long.parseLong(out) * 512;
    }

    /** lseek(fd, offset, whence) on a fresh descriptor: SEEK_HOLE / SEEK_DATA, which FileChannel cannot do. */
    private static long seek(Path path, long offset, int whence) throws Throwable {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(path.toString()), 0);
            assertThat(fd).isNotNegative();
            try {
                return (long) LSEEK.invokeExact(fd, offset, whence);
            } finally {
                int closed = (int) CLOSE.invokeExact(fd);
            }
        }
    }

    @Test
    void shouldAllocateBlocksWithoutChangingTheSizeWhenKeepingIt() throws Exception {
        Path path = dir.resolve("keep");
        try (AioFile file = AioFile.open(path, READ, WRITE, CREATE)) {
            assertThat(allocatedBytes(path)).isZero();
            file.preallocate(0, 1 << 20, true);
            assertThat(file.size()).isZero();
        }
        assertThat(Files.size(path)).isZero();
        assertThat(allocatedBytes(path)).isGreaterThanOrEqualTo(1 << 20);
    }

    @Test
    void shouldAllocateAndExtendWithoutKeepSize() throws Exception {
        Path path = dir.resolve("extend");
        try (AioFile file = AioFile.open(path, READ, WRITE, CREATE)) {
            file.preallocate(4096, 1 << 20, false);
            assertThat(file.size()).isEqualTo(4096 + (1 << 20));
        }
        assertThat(allocatedBytes(path)).isGreaterThanOrEqualTo(1 << 20);
        assertThat(Files.readAllBytes(path)).containsOnly(0);
    }

    @Test
    void shouldPunchAHoleVisibleToSeekHoleAndKeepTheSize() throws Throwable {
        Path path = dir.resolve("hole");
        byte[] ones = new byte[3 << 16];
        java.util.Arrays.fill(ones, (byte) 1);
        Files.write(path, ones);
        assertThat(seek(path, 0, SEEK_HOLE)).as("no hole before punching").isEqualTo(ones.length);
        try (AioFile file = AioFile.open(path, READ, WRITE)) {
            file.punchHole(1 << 16, 1 << 16);
            assertThat(file.size()).isEqualTo(ones.length);
        }
        assertThat(seek(path, 0, SEEK_HOLE)).isEqualTo(1 << 16);
        assertThat(seek(path, 1 << 16, SEEK_DATA)).isEqualTo(2 << 16);
        byte[] read = Files.readAllBytes(path);
        assertThat(read[(1 << 16) + 5]).isZero();
        assertThat(read[5]).isEqualTo((byte) 1);
        assertThat(read[(2 << 16) + 5]).isEqualTo((byte) 1);
    }

    @Test
    void shouldPreallocateAndPunchThroughTheChannel() throws Throwable {
        Path path = dir.resolve("channel");
        try (AioFileChannel channel = AioFileChannel.open(path, READ, WRITE, CREATE)) {
            channel.preallocate(0, 3 << 16, false);
            assertThat(channel.size()).isEqualTo(3 << 16);
            channel.write(java.nio.ByteBuffer.wrap(new byte[3 << 16]).put(0, (byte) 1), 0);
            channel.force(true);
            channel.punchHole(0, 1 << 16);
            channel.advise(0, 0, Advice.SEQUENTIAL);
        }
        assertThat(seek(path, 0, SEEK_DATA)).isEqualTo(1 << 16);
        try (AioFileChannel readOnly = AioFileChannel.open(path, READ)) {
            assertThatThrownBy(() -> readOnly.preallocate(0, 4096, true)).isInstanceOf(NonWritableChannelException.class);
            assertThatThrownBy(() -> readOnly.punchHole(0, 4096)).isInstanceOf(NonWritableChannelException.class);
        }
    }

    @Test
    void shouldNameEbadfForAFileNotOpenedForWriting() throws IOException {
        Path path = Files.write(dir.resolve("ro"), new byte[4096]);
        try (AioFile file = AioFile.open(path, READ)) {
            assertThatThrownBy(() -> file.preallocate(0, 4096, true))
                    .isInstanceOfSatisfying(AioException.class, e -> assertThat(e.errnoName()).isEqualTo("EBADF"))
                    .hasMessageEndingWith(": the file was not opened for writing");
        }
    }

    @Test
    void shouldCheckRangesBeforeTheKernel() throws IOException {
        Path path = Files.write(dir.resolve("range"), new byte[4096]);
        try (AioFile file = AioFile.open(path, READ, WRITE)) {
            assertThatThrownBy(() -> file.preallocate(-1, 4096, true))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("position must not be negative: -1");
            assertThatThrownBy(() -> file.punchHole(0, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("length must be positive: 0");
            assertThatThrownBy(() -> file.advise(0, -1, Advice.RANDOM))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("length must be 0 or more: -1");
            assertThatThrownBy(() -> file.preallocate(Long.MAX_VALUE, 2, false))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("position 9223372036854775807 + length 2 overflows a long");
            assertThatThrownBy(() -> file.advise(0, 0, null))
                    .isInstanceOf(NullPointerException.class).hasMessage("advice");
        }
        AioFile closed = AioFile.open(path, READ, WRITE);
        closed.close();
        assertThatThrownBy(() -> closed.preallocate(0, 4096, true)).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> closed.advise(0, 0, Advice.NORMAL)).isInstanceOf(ClosedChannelException.class);
    }
}
