package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Issue 8, §3: {@link MisalignedIoException} is an {@link IOException}, as the
 * JDK's direct channels throw, so code catching IOException around direct I/O
 * keeps working; its message names the alignment. (Compiles only once the
 * exception is an IOException.) The JDK's own behaviour beside panaio's is in
 * the channel contracts' misaligned-position cases.
 */
class MisalignedIoExceptionTest {
    @TempDir
    Path dir;

    private Path path;
    private DirectAlignment alignment;
    private ByteBuffer buffer;

    @BeforeEach
    void createFile() throws IOException {
        path = TestData.writeFile(dir.resolve("f"), 1 << 16, 17);
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            alignment = file.alignment();
        }
        int block = Math.toIntExact(Math.max(4096, alignment.offset()));
        buffer = ByteBuffer.allocateDirect(2 * block).alignedSlice(Math.toIntExact(Math.max(4096, alignment.memory())))
                .limit(block);
    }

    @Test
    void shouldBeAnIOException() {
        Class<? extends IOException> type = MisalignedIoException.class;
        assertThat(IOException.class).isAssignableFrom(type);
    }

    @Test
    void shouldBeCaughtAsAnIOExceptionAroundABlockingDirectRead() throws IOException {
        long misaligned = alignment.offset() + 1;
        try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)) {
            try {
                channel.read(buffer, misaligned);
                fail("read at %d of a file aligned to %d", misaligned, alignment.offset());
            } catch (IOException e) {
                assertThat(e).isInstanceOf(MisalignedIoException.class)
                        .hasMessageContaining(Long.toString(alignment.offset()));
            }
            assertThat(channel.isOpen()).as("a refused request does not close the channel").isTrue();
        }
    }

    @Test
    void shouldFailTheFutureOfAMisalignedAsynchronousWrite() throws IOException {
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ, WRITE,
                ExtendedOpenOption.DIRECT)) {
            assertThatThrownBy(() -> channel.writeAsync(buffer.clear().limit(1), 0).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(MisalignedIoException.class)
                    .hasMessageContaining(Long.toString(alignment.offset()));
        }
    }

    @Test
    void shouldFailTheFutureOfAMisalignedEngineRead() throws IOException {
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofShared()) {
            MemorySegment segment = arena.allocate(alignment.offset(), Math.max(4096, alignment.memory()));
            assertThatThrownBy(() -> engine.read(file, segment, 1).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(MisalignedIoException.class)
                    .hasMessageContaining(Long.toString(alignment.offset()));
        }
    }

    @Test
    void shouldBeDeclaredByAContextsPrepareRead() throws IOException {
        try (AioContext context = AioContext.open(4); AioFile file = AioFile.open(path, READ,
                ExtendedOpenOption.DIRECT); Arena arena = Arena.ofConfined()) {
            MemorySegment segment = arena.allocate(alignment.offset(), Math.max(4096, alignment.memory()));
            try {
                context.prepareRead(file, segment, 1, 0);
                fail("prepared a read at 1 of a file aligned to %d", alignment.offset());
            } catch (MisalignedIoException e) {
                assertThat(e).hasMessageContaining(Long.toString(alignment.offset()));
            }
            assertThat(context.prepared()).isZero();
        }
    }
}
