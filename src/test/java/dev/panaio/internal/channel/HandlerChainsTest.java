package dev.panaio.internal.channel;

import dev.panaio.AioAsynchronousFileChannel;
import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioEngine;
import dev.panaio.EventFd;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A chain of handlers on the default pool, each reading the next block of a
 * cached file: the page cache answers every read at once, so each next
 * handler runs on the thread of the one before it, after it returns, instead
 * of waking another pool thread ({@link HandlerChains}). What the JDK's pool
 * gives that the chain must keep (never inside the starting handler, never
 * left behind a waiting one) is tested beside the JDK's channel in
 * {@code AsynchronousFileChannelContract}.
 */
class HandlerChainsTest {
    private static final int SEED = 23;
    private static final int BLOCK = 512;

    @TempDir
    Path dir;

    /** Reads {@code count} blocks one after another, each started by the handler of the one before. */
    private List<Thread> chain(int count) throws Exception {
        Path path = TestData.writeFile(dir.resolve("cached"), (long) BLOCK * 64, SEED); // just written: cached
        List<Thread> ranOn = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ)) {
            ByteBuffer dst = ByteBuffer.allocateDirect(BLOCK);
            channel.read(dst, 0, 1, new CompletionHandler<Integer, Integer>() {
                @Override
                public void completed(Integer result, Integer n) {
                    ranOn.add(Thread.currentThread());
                    if (result != BLOCK) {
                        done.completeExceptionally(new AssertionError("read " + n + " returned " + result));
                    } else if (n == count) {
                        done.complete(null);
                    } else {
                        dst.clear();
                        channel.read(dst, (long) BLOCK * (n % 64), n + 1, this);
                    }
                }

                @Override
                public void failed(Throwable error, Integer n) {
                    done.completeExceptionally(error);
                }
            });
            done.get(60, TimeUnit.SECONDS);
        }
        return ranOn;
    }

    /** How often the thread changed from one handler to the next. */
    private static int changes(List<Thread> ranOn) {
        int changes = 0;
        for (int i = 1; i < ranOn.size(); i++) {
            if (ranOn.get(i) != ranOn.get(i - 1)) {
                changes++;
            }
        }
        return changes;
    }

    /** The longest run of handlers in a row on one thread. */
    private static int longestRun(List<Thread> ranOn) {
        int longest = 0;
        int run = 0;
        for (int i = 0; i < ranOn.size(); i++) {
            run = i > 0 && ranOn.get(i) == ranOn.get(i - 1) ? run + 1 : 1;
            longest = Math.max(longest, run);
        }
        return longest;
    }

    @Test
    void shouldRunAChainOfCachedReadsHandlersOnOneThreadWithoutAHandOffEach() throws Exception {
        List<Thread> ranOn = chain(1000);
        assertThat(ranOn).hasSize(1000);
        // Handed off every time, the cached pool would move the chain on nearly every handler. Left on its
        // thread, it moves only when the watcher takes a handler from one that has run for a whole period
        // (a thread preempted for a millisecond on a loaded machine): a few times at most.
        assertThat(changes(ranOn)).as("thread changes in a chain of 1,000 handlers").isLessThan(250);
        assertThat(ranOn).allSatisfy(thread -> assertThat(thread.getName()).startsWith("panaio-handler-"));
    }

    /**
     * Handlers handed to the pool back to back share a pool task while it
     * has not started; one that waits for a handler behind it in that task
     * must still get it, as the JDK's cached pool would run it on another
     * thread: the watcher moves it.
     */
    @Test
    void shouldRunAHandlerThatTheOneBeforeItInABatchWaitsFor() throws Exception {
        for (int round = 0; round < 5; round++) {
            CompletableFuture<Thread> second = new CompletableFuture<>();
            CompletableFuture<Boolean> firstSawSecond = new CompletableFuture<>();
            HandlerChains.execute(() -> {
                try {
                    firstSawSecond.complete(second.get(30, TimeUnit.SECONDS) != Thread.currentThread());
                } catch (Exception e) {
                    firstSawSecond.completeExceptionally(e);
                }
            });
            HandlerChains.execute(() -> second.complete(Thread.currentThread()));
            assertThat(firstSawSecond.get(60, TimeUnit.SECONDS)).as("round %d: the second ran on another thread", round)
                    .isTrue();
        }
    }

    /**
     * A handler holds back the wake-up of the sleeping engine its reads go
     * to until it returns ({@code HeldSignals}); one that waits for such a
     * read's handler instead of returning must still get it, as it would on
     * the JDK's pool: the watcher sends the wake-up. The engine first has
     * two polls in flight at once, so that, idle again, it does not let the
     * next caller submit its own request: only its thread can send the read
     * to the kernel.
     */
    @Test
    void shouldSendTheEngineTheReadOfAHandlerThatWaitsForItsHandler() throws Exception {
        Path path = TestData.writeFile(dir.resolve("direct"), 4096, SEED);
        try (AioEngine engine = AioEngine.builder().name("held-wakeups").build();
             EventFd ready = EventFd.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                     Set.of(READ, ExtendedOpenOption.DIRECT), null, engine)) {
            for (int round = 0; round < 3; round++) {
                CompletableFuture<Integer> first = engine.poll(ready, 1);
                CompletableFuture<Integer> second = engine.poll(ready, 1);
                while (engine.stats().inFlight() < 2) { // both in the kernel together: the next idle offers nothing
                    Thread.onSpinWait();
                }
                ready.write(1);
                first.get(30, TimeUnit.SECONDS);
                second.get(30, TimeUnit.SECONDS);
                Thread.sleep(50); // the engine thread goes back to sleep (within microseconds), so the read must wake it
                CompletableFuture<Integer> read = new CompletableFuture<>();
                CompletableFuture<Boolean> calledWhileWaiting = new CompletableFuture<>();
                HandlerChains.execute(() -> {
                    CountDownLatch called = new CountDownLatch(1);
                    channel.read(ByteBuffer.allocateDirect(4096), 0, null, new CompletionHandler<Integer, Void>() {
                        @Override
                        public void completed(Integer result, Void unused) {
                            read.complete(result);
                            called.countDown();
                        }

                        @Override
                        public void failed(Throwable error, Void unused) {
                            read.completeExceptionally(error);
                            called.countDown();
                        }
                    });
                    try {
                        calledWhileWaiting.complete(called.await(30, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        calledWhileWaiting.completeExceptionally(e);
                    }
                });
                assertThat(calledWhileWaiting.get(60, TimeUnit.SECONDS))
                        .as("round %d: the read's handler ran while the handler that made it waited", round).isTrue();
                assertThat(read.get(60, TimeUnit.SECONDS)).as("round %d: the read's result", round).isEqualTo(4096);
                ready.read(); // the count the two polls saw
            }
        }
    }

    /**
     * Once no thread has anything deferred, the watcher waits without a
     * timeout: an idle process pays nothing for it. (Still looking, it would
     * be TIMED_WAITING in its sleep between looks.)
     */
    @Test
    void shouldLetTheWatcherWaitWithoutATimeoutOnceNoChainRuns() throws Exception {
        assertThat(chain(1000)).hasSize(1000); // the watcher exists and has watched a chain
        Thread watcher = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("panaio-handler-watch")).findFirst().orElseThrow();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (watcher.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(watcher.getState()).as("the watcher's state once no chain runs").isEqualTo(Thread.State.WAITING);
    }

    @Test
    void shouldMoveALongChainToAnotherThreadAfterTheBudget() throws Exception {
        int count = 3 * HandlerChains.MAX_CHAINED + 5;
        List<Thread> ranOn = chain(count);
        assertThat(ranOn).hasSize(count);
        assertThat(longestRun(ranOn)).as("the most handlers in a row on one thread")
                .isLessThanOrEqualTo(HandlerChains.MAX_CHAINED);
    }
}
