package dev.panaio;

import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the JDK documents for {@link AsynchronousFileChannel}, as tests, run
 * against the JDK's implementation as well as panaio's.
 */
abstract class AsynchronousFileChannelContract {
    static final int SEED = 5;

    @TempDir
    Path dir;

    abstract AsynchronousFileChannel open(Path path, OpenOption... options) throws IOException;

    private Path file(long size) throws IOException {
        return TestData.writeFile(dir.resolve("f"), size, SEED);
    }

    /** A CompletionHandler that completes a future, attachment checked. */
    private static <A> CompletionHandler<Integer, A> handler(CompletableFuture<Integer> future, A expected) {
        return new CompletionHandler<>() {
            @Override
            public void completed(Integer result, A attachment) {
                if (attachment != expected) {
                    future.completeExceptionally(new AssertionError("wrong attachment " + attachment));
                } else {
                    future.complete(result);
                }
            }

            @Override
            public void failed(Throwable error, A attachment) {
                future.completeExceptionally(error);
            }
        };
    }

    @Test
    void shouldReadWithAFutureAndAdvanceTheBuffer() throws Exception {
        try (AsynchronousFileChannel channel = open(file(10_000), READ)) {
            ByteBuffer dst = ByteBuffer.allocate(1000);
            assertThat(channel.read(dst, 4000).get(10, TimeUnit.SECONDS)).isEqualTo(1000);
            assertThat(dst.position()).isEqualTo(1000);
            assertThat(dst.get(999)).isEqualTo(TestData.byteAt(4999, SEED));
        }
    }

    @Test
    void shouldReadWithACompletionHandlerAndItsAttachment() throws Exception {
        try (AsynchronousFileChannel channel = open(file(10_000), READ)) {
            ByteBuffer dst = ByteBuffer.allocateDirect(512);
            CompletableFuture<Integer> done = new CompletableFuture<>();
            String attachment = "mine";
            channel.read(dst, 0, attachment, handler(done, attachment));
            assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo(512);
            assertThat(dst.get(0)).isEqualTo(TestData.byteAt(0, SEED));
        }
    }

    @Test
    void shouldReturnMinusOneAtEndOfFile() throws Exception {
        try (AsynchronousFileChannel channel = open(file(100), READ)) {
            assertThat(channel.read(ByteBuffer.allocate(10), 100).get(10, TimeUnit.SECONDS)).isEqualTo(-1);
            assertThat(channel.read(ByteBuffer.allocate(10), 95).get(10, TimeUnit.SECONDS)).isEqualTo(5);
        }
    }

    @Test
    void shouldWriteWithFuturesAndHandlers() throws Exception {
        Path path = file(100);
        try (AsynchronousFileChannel channel = open(path, READ, WRITE)) {
            ByteBuffer src = ByteBuffer.wrap(new byte[] {1, 2, 3});
            assertThat(channel.write(src, 200).get(10, TimeUnit.SECONDS)).isEqualTo(3);
            assertThat(src.hasRemaining()).isFalse();
            CompletableFuture<Integer> done = new CompletableFuture<>();
            channel.write(ByteBuffer.wrap(new byte[] {9}), 0, null, handler(done, null));
            assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(channel.size()).isEqualTo(203);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes[0]).isEqualTo((byte) 9);
        assertThat(bytes[202]).isEqualTo((byte) 3);
    }

    @Test
    void shouldTruncateAndForce() throws Exception {
        try (AsynchronousFileChannel channel = open(file(1000), READ, WRITE)) {
            assertThat(channel.truncate(400)).isSameAs(channel);
            assertThat(channel.size()).isEqualTo(400);
            channel.force(true);
            assertThatThrownBy(() -> channel.truncate(-1)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldLockAndReportThisChannelAsTheOwner() throws Exception {
        try (AsynchronousFileChannel channel = open(file(1000), READ, WRITE)) {
            FileLock lock = channel.lock(0, 10, false).get(10, TimeUnit.SECONDS);
            assertThat(lock.acquiredBy()).isSameAs(channel);
            lock.release();
            FileLock tried = channel.tryLock(0, 10, true);
            assertThat(tried).isNotNull();
            assertThat(tried.acquiredBy()).isSameAs(channel);
            tried.release();
        }
    }

    @Test
    void shouldRejectNegativePositionsAndWrongAccess() throws Exception {
        Path path = file(100);
        try (AsynchronousFileChannel readOnly = open(path, READ); AsynchronousFileChannel writeOnly = open(path, WRITE)) {
            assertThatThrownBy(() -> readOnly.read(ByteBuffer.allocate(1), -1))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> readOnly.write(ByteBuffer.allocate(1), 0))
                    .isInstanceOf(NonWritableChannelException.class);
            assertThatThrownBy(() -> writeOnly.read(ByteBuffer.allocate(1), 0))
                    .isInstanceOf(NonReadableChannelException.class);
            assertThatThrownBy(() -> readOnly.read(ByteBuffer.allocate(1).asReadOnlyBuffer(), 0))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldFailRequestsOnAClosedChannelWithClosedChannelException() throws Exception {
        AsynchronousFileChannel channel = open(file(100), READ);
        channel.close();
        channel.close();
        assertThat(channel.isOpen()).isFalse();
        assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(1), 0).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ClosedChannelException.class);
        CompletableFuture<Integer> done = new CompletableFuture<>();
        channel.read(ByteBuffer.allocate(1), 0, null, handler(done, null));
        assertThatThrownBy(() -> done.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ClosedChannelException.class);
    }
}
