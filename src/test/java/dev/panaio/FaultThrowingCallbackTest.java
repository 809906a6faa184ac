package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Completion handlers and dependent stages that throw.
 * Part of the fault tests; see {@link FaultTesting}.
 */
class FaultThrowingCallbackTest extends FaultTesting {
    // ------------------------------------------------------- throwing callbacks

    @Test
    void shouldSurviveCompletionHandlersThatThrowAndKeepCompletingLaterRequests() throws Exception {
        Path path = TestData.writeFile(dir.resolve("handlers"), 1 << 20, SEED);
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Queue<Throwable> reported = new ConcurrentLinkedQueue<>();
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> {
            if (String.valueOf(error.getMessage()).contains("throws")) {
                reported.add(error); // only this test's handlers' exceptions
            } else if (previous != null) {
                previous.uncaughtException(thread, error);
            }
        });
        ExecutorService handlerThreads = Executors.newSingleThreadExecutor();
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel onEngineThread = AioAsynchronousFileChannel.open(path,
                     Set.of(READ, WRITE, ExtendedOpenOption.DIRECT), null, engine);
             AioAsynchronousFileChannel onExecutor = AioAsynchronousFileChannel.open(path,
                     Set.of(READ, WRITE, ExtendedOpenOption.DIRECT), handlerThreads, engine)) {
            for (AioAsynchronousFileChannel channel : List.of(onEngineThread, onExecutor)) {
                reported.clear();
                CountDownLatch called = new CountDownLatch(20);
                CompletionHandler<Integer, Integer> throwing = new CompletionHandler<>() {
                    @Override
                    public void completed(Integer result, Integer n) {
                        called.countDown();
                        if (n % 2 == 0) {
                            throw new IllegalStateException("handler " + n + " throws");
                        }
                        throw new AssertionError("handler " + n + " throws an Error");
                    }

                    @Override
                    public void failed(Throwable error, Integer n) {
                        called.countDown();
                        throw new IllegalStateException("failed() of " + n + " throws");
                    }
                };
                for (int i = 0; i < 18; i++) {
                    channel.read(ByteBuffer.allocateDirect(BLOCK), (long) i * BLOCK, i, throwing);
                }
                // Two that fail in the kernel (EFBIG), so that failed() throws too.
                ByteBuffer block = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK).limit(BLOCK);
                channel.write(block, 1L << 60, 100, throwing);
                channel.write(block.duplicate(), 1L << 60, 101, throwing);
                assertThat(called.await(30, TimeUnit.SECONDS)).as("handlers called").isTrue();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (reported.size() < 20 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertThat(reported).as("handler exceptions reported to the uncaught exception handler").hasSize(20);
                for (int i = 0; i < 50; i++) {
                    assertThat(channel.read(ByteBuffer.allocate(BLOCK), (long) i * BLOCK).get(10, TimeUnit.SECONDS))
                            .as("a read after the throwing handlers").isEqualTo(BLOCK);
                }
            }
            assertThat(engine.outstanding()).isZero();
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
            handlerThreads.shutdown();
        }
    }

    @Test
    void shouldSurviveDependentStagesThatThrowOnTheEngineThread() throws Exception {
        Path path = TestData.writeFile(dir.resolve("stages"), 1 << 20, SEED);
        try (AioEngine engine = AioEngine.open(); AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofShared()) {
            List<CompletableFuture<?>> dependents = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                CompletableFuture<Integer> read = engine.read(file, arena.allocate(BLOCK, BLOCK), (long) i * BLOCK);
                int n = i;
                dependents.add(switch (i % 3) {
                    case 0 -> read.thenApply(x -> {
                        throw new IllegalStateException("stage " + n);
                    });
                    case 1 -> read.whenComplete((x, e) -> {
                        throw new AssertionError("stage " + n);
                    });
                    default -> read.thenAccept(x -> {
                        throw new StackOverflowError("stage " + n);
                    });
                });
            }
            for (CompletableFuture<?> dependent : dependents) {
                assertThatThrownBy(() -> dependent.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .hasMessageContaining("stage");
            }
            for (int i = 0; i < 50; i++) {
                assertThat(engine.read(file, arena.allocate(BLOCK, BLOCK), (long) i * BLOCK).get(10, TimeUnit.SECONDS))
                        .isEqualTo(BLOCK);
            }
            assertThat(engine.outstanding()).isZero();
        }
    }
}
