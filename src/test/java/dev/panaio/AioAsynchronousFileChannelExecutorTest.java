package dev.panaio;

import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A channel opened with the caller's executor, which is then shut down: the
 * JDK's channel hands that executor the whole operation when it starts, so
 * its read and write throw RejectedExecutionException; panaio's hands it only
 * the handler, at completion, and when it is refused calls the handler once on
 * a delivery thread (more permissive, as the class javadoc says). A lock
 * throws on both.
 */
class AioAsynchronousFileChannelExecutorTest {
    private static final int SEED = 5;

    @TempDir
    Path dir;

    /** A lock's handler for calls that throw before any handler could run. */
    private static final CompletionHandler<FileLock, Void> IGNORED_LOCK = new CompletionHandler<>() {
        @Override
        public void completed(FileLock lock, Void attachment) {
        }

        @Override
        public void failed(Throwable error, Void attachment) {
        }
    };

    /** Records each call and the thread it ran on; {@code done} completes with the first. */
    private static final class Recording implements CompletionHandler<Integer, Void> {
        final List<Object> calls = new CopyOnWriteArrayList<>();
        final List<Thread> threads = new CopyOnWriteArrayList<>();
        final CompletableFuture<Object> done = new CompletableFuture<>();

        @Override
        public void completed(Integer result, Void attachment) {
            record(result);
        }

        @Override
        public void failed(Throwable error, Void attachment) {
            record(error);
        }

        private void record(Object outcome) {
            calls.add(outcome);
            threads.add(Thread.currentThread());
            done.complete(outcome);
        }
    }

    @Test
    void shouldThrowFromReadAndWriteOnTheJdkAndCallTheHandlerOnceOnPanaioWhenTheExecutorIsShutDown() throws Exception {
        Path path = TestData.writeFile(dir.resolve("shut"), 4096, SEED);

        ExecutorService jdkPool = Executors.newSingleThreadExecutor();
        Recording jdkRead = new Recording();
        Recording jdkWrite = new Recording();
        try (AsynchronousFileChannel jdk = AsynchronousFileChannel.open(path, Set.of(READ, WRITE), jdkPool)) {
            jdkPool.shutdown();
            assertThatThrownBy(() -> jdk.read(ByteBuffer.allocate(100), 0, null, jdkRead))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> jdk.write(ByteBuffer.allocate(100), 100, null, jdkWrite))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> jdk.lock(0, 10, false, null, IGNORED_LOCK))
                    .isInstanceOf(RejectedExecutionException.class);
        }

        ExecutorService ours = Executors.newSingleThreadExecutor();
        Recording read = new Recording();
        Recording write = new Recording();
        try (AsynchronousFileChannel panaio = AioAsynchronousFileChannel.open(path, Set.of(READ, WRITE), ours)) {
            ours.shutdown();
            panaio.read(ByteBuffer.allocate(100), 0, null, read); // does not throw
            panaio.write(ByteBuffer.wrap(new byte[100]), 100, null, write);
            assertThat(read.done.get(30, TimeUnit.SECONDS)).as("panaio's read").isEqualTo(100);
            assertThat(write.done.get(30, TimeUnit.SECONDS)).as("panaio's write").isEqualTo(100);
            assertThatThrownBy(() -> panaio.lock(0, 10, false, null, IGNORED_LOCK))
                    .isInstanceOf(RejectedExecutionException.class);
        }
        Thread.sleep(200); // a second call would come soon after the first: give it the time to show
        assertThat(jdkRead.calls).as("the JDK's read handler calls").isEmpty();
        assertThat(jdkWrite.calls).as("the JDK's write handler calls").isEmpty();
        assertThat(read.calls).as("panaio's read handler calls").hasSize(1);
        assertThat(write.calls).as("panaio's write handler calls").hasSize(1);
        assertThat(read.threads.getFirst()).as("the thread panaio's read handler ran on")
                .isNotSameAs(Thread.currentThread());
        assertThat(write.threads.getFirst()).as("the thread panaio's write handler ran on")
                .isNotSameAs(Thread.currentThread());
    }
}
