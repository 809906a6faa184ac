package dev.panaio;

import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 8, §3: CompletionHandlers run on the initiating thread only when asked
 * for with {@link PanaioOpenOption#INLINE_COMPLETION} (the default, never, is
 * in {@link AsynchronousFileChannelContract}). Compiles once the option exists.
 */
class InlineCompletionTest {
    @TempDir
    Path dir;

    @Test
    void shouldRunHandlersOfPageCacheHitsOnTheInitiatingThreadWhenAskedTo() throws Exception {
        Path path = TestData.writeFile(dir.resolve("f"), 10_000, 19); // just written: in the page cache
        int inline = 0;
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                PanaioOpenOption.INLINE_COMPLETION)) {
            for (int i = 0; i < 50; i++) {
                CompletableFuture<Thread> ranOn = new CompletableFuture<>();
                channel.read(ByteBuffer.allocate(100), 100L * i, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer result, Void attachment) {
                        ranOn.complete(Thread.currentThread());
                    }

                    @Override
                    public void failed(Throwable error, Void attachment) {
                        ranOn.completeExceptionally(error);
                    }
                });
                if (ranOn.get(10, TimeUnit.SECONDS) == Thread.currentThread()) {
                    inline++;
                }
            }
        }
        assertThat(inline).as("handlers of 50 page-cache reads run on the initiating thread").isPositive();
    }
}
