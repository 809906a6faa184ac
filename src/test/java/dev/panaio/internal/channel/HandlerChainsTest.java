package dev.panaio.internal.channel;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioEngine;
import dev.panaio.EventFd;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.channels.Pipe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

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
        // thread, it moves only when the watcher finds a handler that waits (a page fault, a lock): a few
        // times at most.
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

    /**
     * Handlers that keep starting cached reads, {@value #IN_FLIGHT} at a
     * time, on CPUs kept busy by as many spinning threads: the pool's threads
     * are preempted for milliseconds, and the watcher must leave the handlers
     * behind such a thread where they are, since another thread would only
     * wait for the same CPUs. Moved a thread each, as it once did, they made
     * the cached pool grow to hundreds of threads, which then took turns for
     * seconds.
     */
    @Test
    void shouldNotGrowThePoolWhileItsThreadsOnlyWaitForACpu() throws Exception {
        Path path = TestData.writeFile(dir.resolve("cached"), (long) BLOCK * 64, SEED); // just written: cached
        int cpus = Runtime.getRuntime().availableProcessors();
        // Threads started, not threads alive: the cached pool reuses the idle threads earlier tests left.
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long before = threads.getTotalStartedThreadCount();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> spinners = new ArrayList<>();
        for (int i = 0; i < cpus; i++) {
            spinners.add(Thread.ofPlatform().daemon().start(() -> {
                while (!stop.get()) {
                    Thread.onSpinWait();
                }
            }));
        }
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ)) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            CountDownLatch done = new CountDownLatch(IN_FLIGHT);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong reads = new AtomicLong();
            for (int slot = 0; slot < IN_FLIGHT; slot++) {
                ByteBuffer dst = ByteBuffer.allocateDirect(BLOCK);
                channel.read(dst, (long) BLOCK * (slot % 64), slot, new CompletionHandler<Integer, Integer>() {
                    @Override
                    public void completed(Integer result, Integer n) {
                        reads.incrementAndGet();
                        if (System.nanoTime() - end >= 0) {
                            done.countDown();
                        } else {
                            dst.clear();
                            channel.read(dst, (long) BLOCK * ((n + 1) % 64), n + 1, this);
                        }
                    }

                    @Override
                    public void failed(Throwable error, Integer n) {
                        failure.compareAndSet(null, error);
                        done.countDown();
                    }
                });
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!done.await(50, TimeUnit.MILLISECONDS)) {
                assertThat(System.nanoTime() - deadline).as("the handlers still reading a minute on").isNegative();
            }
            assertThat(failure.get()).as("a read's failure").isNull();
            assertThat(reads.get()).as("reads done, more than one per handler").isGreaterThan(2L * IN_FLIGHT);
        } finally {
            stop.set(true);
            for (Thread spinner : spinners) {
                spinner.join();
            }
        }
        // One batch of 16 for each 16 of the first reads, a chain more per CPU, and some moved for handlers
        // that waited (a page fault, a lock; or the JVM's compiler adding a thread; more of them on a loaded
        // machine): far below one thread for each handler in flight, and below the 81 seen without the rule.
        long started = threads.getTotalStartedThreadCount() - before - cpus; // not the spinners
        assertThat(started).as("threads started while %d handlers read, at the most", IN_FLIGHT)
                .isLessThanOrEqualTo(IN_FLIGHT / HandlerChains.MAX_BATCH + cpus + 32);
    }

    /**
     * A batch of handlers handed to the pool back to back, each of which
     * waits until all of them have started: on the JDK's cached pool each has
     * a thread, and so must each here, within a few of the watcher's looks.
     * Where it could not tell a wait from a wait for a CPU, they would start
     * a second apart at first (halves after a second each: 4 s for 16).
     */
    @Test
    void shouldGiveEachOfABatchOfHandlersThatWaitForOneAnotherAThread() throws Exception {
        for (int round = 0; round < 3; round++) {
            int count = HandlerChains.MAX_BATCH;
            CountDownLatch started = new CountDownLatch(count);
            List<CompletableFuture<Boolean>> sawAll = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                CompletableFuture<Boolean> saw = new CompletableFuture<>();
                sawAll.add(saw);
                HandlerChains.execute(() -> {
                    started.countDown();
                    try {
                        saw.complete(started.await(2, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        saw.completeExceptionally(e);
                    }
                });
            }
            for (int i = 0; i < count; i++) {
                assertThat(sawAll.get(i).get(60, TimeUnit.SECONDS))
                        .as("round %d: handler %d saw all %d started within 2 s", round, i, count).isTrue();
            }
        }
    }

    /**
     * As above, with handlers that each wait in a system call (a blocking
     * read of a pipe of its own, which Java calls runnable) until the last
     * of them has started and written into every pipe. The watcher must see
     * them asleep in the kernel within a few looks (halves: 4 steps for 16),
     * not after the second it waits where it cannot tell (4 s).
     */
    @Test
    void shouldStartABatchOfHandlersThatWaitInSystemCallsForOneAnotherPromptly() throws Exception {
        int count = HandlerChains.MAX_BATCH;
        List<Pipe> pipes = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                pipes.add(Pipe.open());
            }
            CountDownLatch started = new CountDownLatch(count);
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                CompletableFuture<Integer> read = new CompletableFuture<>();
                reads.add(read);
                Pipe own = pipes.get(i);
                HandlerChains.execute(() -> {
                    try {
                        started.countDown();
                        if (started.getCount() == 0) { // the last to start lets every one go
                            for (Pipe pipe : pipes) {
                                pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
                            }
                        }
                        read.complete(own.source().read(ByteBuffer.allocate(1)));
                    } catch (IOException e) {
                        read.completeExceptionally(e);
                    }
                });
            }
            for (int i = 0; i < count; i++) {
                assertThat(reads.get(i).get(60, TimeUnit.SECONDS)).as("handler %d's byte", i).isEqualTo(1);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("until all %d had their byte", count)
                    .isLessThan(Duration.ofSeconds(3)); // thread starts included; 4.2 s without the kernel's look
        } finally {
            for (Pipe pipe : pipes) { // ends a read still blocked, on failure
                pipe.sink().close();
                pipe.source().close();
            }
        }
    }

    /**
     * A handler that spins (runnable, and using its CPU) until the handler
     * handed to the pool right behind it has run: the watcher must take that
     * one away once the spinner has used {@value HandlerChains#RUNNING_CPU_MILLIS}
     * ms of CPU, well before the one-second limit it keeps for a thread it
     * cannot tell from one that waits for a CPU.
     */
    @Test
    void shouldMoveTheHandlerBehindOneThatComputesBeforeTheOneSecondLimit() throws Exception {
        for (int round = 0; round < 3; round++) {
            CompletableFuture<Thread> second = new CompletableFuture<>();
            CompletableFuture<Long> spunNanos = new CompletableFuture<>();
            HandlerChains.execute(() -> {
                long start = System.nanoTime();
                long deadline = start + TimeUnit.SECONDS.toNanos(30);
                while (!second.isDone() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                spunNanos.complete(System.nanoTime() - start);
            });
            HandlerChains.execute(() -> second.complete(Thread.currentThread()));
            assertThat(Duration.ofNanos(spunNanos.get(60, TimeUnit.SECONDS)))
                    .as("round %d: how long the first spun before the second ran", round)
                    .isLessThan(Duration.ofMillis(HandlerChains.RUNNABLE_LIMIT_MILLIS - 100));
        }
    }

    /**
     * While as many chains run as there are CPUs (each a handler that keeps
     * re-reading a cached file), handlers handed over from another thread
     * join those chains rather than start more, which would only wait for
     * the same CPUs.
     */
    @Test
    void shouldJoinRunningChainsRatherThanStartMoreWhileAsManyRunAsCpus() throws Exception {
        Path path = TestData.writeFile(dir.resolve("cached"), (long) BLOCK * 64, SEED); // just written: cached
        int cpus = Runtime.getRuntime().availableProcessors();
        Set<Thread> chainThreads = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch chainsEnded = new CountDownLatch(cpus);
        AtomicReference<Throwable> chainFailure = new AtomicReference<>();
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ)) {
            for (int chain = 0; chain < cpus; chain++) {
                ByteBuffer dst = ByteBuffer.allocateDirect(BLOCK);
                channel.read(dst, 0, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer result, Void unused) {
                        chainThreads.add(Thread.currentThread());
                        if (stop.get()) {
                            chainsEnded.countDown();
                        } else {
                            dst.clear();
                            channel.read(dst, 0, null, this);
                        }
                    }

                    @Override
                    public void failed(Throwable error, Void unused) {
                        chainFailure.compareAndSet(null, error);
                        chainsEnded.countDown();
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (chainThreads.size() <= chain && System.nanoTime() < deadline) { // on a thread of its own
                    Thread.sleep(1);
                }
                assertThat(chainThreads).as("threads of the chains started, once chain %d started", chain)
                        .hasSizeGreaterThan(chain);
            }
            int count = 200;
            List<Thread> ranOn = new CopyOnWriteArrayList<>();
            CountDownLatch handled = new CountDownLatch(count);
            for (int i = 0; i < count; i++) {
                channel.read(ByteBuffer.allocateDirect(BLOCK), 0, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer result, Void unused) {
                        ranOn.add(Thread.currentThread());
                        handled.countDown();
                    }

                    @Override
                    public void failed(Throwable error, Void unused) {
                        handled.countDown();
                    }
                });
            }
            assertThat(handled.await(60, TimeUnit.SECONDS)).as("all %d handlers called", count).isTrue();
            stop.set(true);
            assertThat(chainsEnded.await(60, TimeUnit.SECONDS)).as("the chains ended").isTrue();
            assertThat(chainFailure.get()).as("a chain's read failure").isNull();
            long joined = ranOn.stream().filter(chainThreads::contains).count();
            assertThat(joined).as("handlers of %d reads that ran on the %d running chains' threads (%s)", count, cpus,
                    chainThreads).isGreaterThanOrEqualTo(count / 2L); // most: a chain briefly blocked is skipped
        }
    }

    /** The handlers in flight in {@link #shouldNotGrowThePoolWhileItsThreadsOnlyWaitForACpu}. */
    private static final int IN_FLIGHT = 256;

    @Test
    void shouldKeepALongChainOnItsPoolThreadPastTheBudgetOfAThreadOffThePool() throws Exception {
        // Handed on after MAX_CHAINED handlers, a chain that keeps its pool thread busy would make the cached pool
        // add a thread whenever all of its threads were busy. The watcher may still move one whose handler waited
        // (a page fault, a lock), so a few tries are allowed; with the hand-off, no try can pass MAX_CHAINED.
        int count = 3 * HandlerChains.MAX_CHAINED + 5;
        int longest = 0;
        for (int attempt = 0; attempt < 5 && longest <= HandlerChains.MAX_CHAINED; attempt++) {
            List<Thread> ranOn = chain(count);
            assertThat(ranOn).hasSize(count);
            longest = Math.max(longest, longestRun(ranOn));
        }
        assertThat(longest).as("the most handlers in a row on one pool thread")
                .isGreaterThan(HandlerChains.MAX_CHAINED);
    }
}
