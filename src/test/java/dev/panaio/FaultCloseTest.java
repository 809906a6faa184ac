package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.engine.CompletionSink;
import dev.panaio.internal.engine.Request;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.ProcessResources;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Close racing work in flight: a context closed under its owner's submit and reap loop, an engine closed
 * under its submitters, and an engine or context whose ring is full of pending polls.
 * Part of the fault tests; see {@link FaultTesting}.
 */
class FaultCloseTest extends FaultTesting {
    // ------------------------------------------ close racing the context's owner

    @Test
    void shouldStopTheOwnerWithIllegalStateExceptionWhenAContextIsClosedUnderItsSubmitAndReapLoop() throws Exception {
        Path path = TestData.writeFile(dir.resolve("close-race"), 16 << 20, SEED);
        int before = ProcessResources.now().aioRings();
        SplittableRandom random = new SplittableRandom(SEED);
        int delivered = 0;
        for (int round = 0; round < 16; round++) {
            PageCache.evict(path);
            AioContext aio = AioContext.open(64);
            try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); Arena arena = Arena.ofShared()) {
                int slots = aio.capacity(); // never more reads than the context has slots for
                MemorySegment buffers = arena.allocate((long) slots * BLOCK, BLOCK);
                Map<Long, Integer> deliveries = new ConcurrentHashMap<>();
                Queue<String> wrong = new ConcurrentLinkedQueue<>();
                AtomicReference<Throwable> ending = new AtomicReference<>();
                CountDownLatch running = new CountDownLatch(1);
                Thread owner = Thread.ofPlatform().start(() -> {
                    // Tag t reads block t % 4096 of the file into a free buffer slot, reused after its completion.
                    long next = 0;
                    Map<Long, Integer> slotOfTag = new HashMap<>();
                    ArrayListInts free = new ArrayListInts(slots);
                    CompletionConsumer onCompletion = (tag, result) -> {
                        deliveries.merge(tag, 1, Integer::sum);
                        Integer slot = slotOfTag.remove(tag);
                        if (slot == null) {
                            wrong.add("completion for tag " + tag + " that is not in flight");
                            return;
                        }
                        MemorySegment buffer = buffers.asSlice((long) slot * BLOCK, BLOCK);
                        if (result != BLOCK || TestData.firstMismatch(buffer, blockPosition(tag), SEED) != -1) {
                            wrong.add("tag " + tag + ": result " + result);
                        }
                        free.push(slot);
                    };
                    try {
                        for (;;) {
                            for (int n = 0; n < 16 && !free.isEmpty(); n++) {
                                int slot = free.pop();
                                slotOfTag.put(next, slot);
                                aio.prepareRead(file, buffers.asSlice((long) slot * BLOCK, BLOCK), blockPosition(next),
                                        next);
                                next++;
                            }
                            aio.submit();
                            running.countDown();
                            if (aio.reap(onCompletion) == 0 && aio.inFlight() > 0) {
                                aio.await(1, 2, TimeUnit.MILLISECONDS, onCompletion);
                            }
                        }
                    } catch (Throwable t) {
                        ending.set(t);
                    }
                });
                assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
                Thread.sleep(random.nextInt(20));
                aio.close();
                byte[] atClose = snapshot(buffers);
                owner.join(10_000);
                assertThat(owner.isAlive()).as("owner still running after close").isFalse();
                assertThat(ending.get()).as("how the owner's loop ended").isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("closed");
                assertThat(wrong).isEmpty();
                assertThat(deliveries).allSatisfy((tag, times) -> assertThat(times).as("deliveries of tag %d", tag)
                        .isEqualTo(1));
                delivered += deliveries.size();
                assertUnchangedAfterAWhile(buffers, atClose, "the read buffers");
            }
        }
        assertThat(delivered).as("completions delivered before the closes").isPositive();
        assertThat(ProcessResources.now().aioRings()).as("rings mapped").isEqualTo(before);
    }

    private static long blockPosition(long tag) {
        return (tag % 4096) * BLOCK;
    }

    /** A stack of ints without boxing; the owner thread's free buffer slots. */
    private static final class ArrayListInts {
        private final int[] values;
        private int size;

        ArrayListInts(int n) {
            values = new int[n];
            for (int i = 0; i < n; i++) {
                values[size++] = i;
            }
        }

        boolean isEmpty() {
            return size == 0;
        }

        int pop() {
            return values[--size];
        }

        void push(int value) {
            values[size++] = value;
        }
    }

    // --------------------------------------------- engine closed under submitters

    /**
     * Every request is counted by id where a second delivery would show: a
     * CompletionHandler (a heap buffer through the channel, so a bounce
     * buffer), a sink handed to the engine below its futures, and, for the
     * engine's public API, a future, which can only show that it completed.
     */
    @Test
    void shouldFinishEveryRequestOnceAndGiveBackEveryBounceBufferWhenAnEngineIsClosedUnderSubmitters()
            throws Exception {
        Path path = TestData.writeFile(dir.resolve("engine-close"), 16 << 20, SEED);
        AioEngine engine = AioEngine.builder().capacity(16).maxPending(32).build();
        AtomicInteger started = new AtomicInteger();
        Map<Long, Integer> deliveries = new ConcurrentHashMap<>();
        AtomicInteger futuresDone = new AtomicInteger();
        AtomicInteger futuresStarted = new AtomicInteger();
        Queue<String> wrong = new ConcurrentLinkedQueue<>();
        Set<Class<?>> failures = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                Set.of(READ, ExtendedOpenOption.DIRECT), null, engine);
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofShared()) {
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 12; t++) {
                int id = t;
                Thread.Builder builder = t < 4 ? Thread.ofPlatform() : Thread.ofVirtual();
                submitters.add(builder.start(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        long request = (long) id << 32 | i;
                        long position = ((id * 997L + i) % 4096) * BLOCK;
                        BiConsumer<Long, Throwable> outcome = (n, error) -> {
                            deliveries.merge(request, 1, Integer::sum);
                            if (error != null) {
                                failures.add(error.getClass());
                            } else if (n != BLOCK) {
                                wrong.add("read at " + position + " returned " + n);
                            }
                        };
                        try {
                            switch (i % 3) {
                                case 0 -> { // a heap buffer: through a bounce buffer, to a handler
                                    started.incrementAndGet();
                                    ByteBuffer heap = ByteBuffer.allocate(BLOCK);
                                    channel.read(heap, position, heap, new CompletionHandler<Integer, ByteBuffer>() {
                                        @Override
                                        public void completed(Integer n, ByteBuffer buffer) {
                                            outcome.accept((long) n, null);
                                            if (TestData.firstMismatch(MemorySegment.ofBuffer(buffer.flip()),
                                                    position, SEED) != -1) {
                                                wrong.add("heap read at " + position + ": wrong bytes");
                                            }
                                        }

                                        @Override
                                        public void failed(Throwable error, ByteBuffer buffer) {
                                            outcome.accept(null, error);
                                        }
                                    });
                                }
                                case 1 -> { // below the engine's futures: what a duplicate would reach
                                    started.incrementAndGet();
                                    MemorySegment view = arena.allocate(BLOCK, BLOCK);
                                    SharedSecrets.engineAccess().submit(engine,
                                            Request.read(file, view, position, "aio"), new CompletionSink() {
                                                @Override
                                                public void finish(long result) {
                                                    outcome.accept(result, null);
                                                    if (result == BLOCK
                                                            && TestData.firstMismatch(view, position, SEED) != -1) {
                                                        wrong.add("read at " + position + ": wrong bytes");
                                                    }
                                                }

                                                @Override
                                                public void fail(Throwable error) {
                                                    outcome.accept(null, error);
                                                }
                                            });
                                }
                                default -> { // the public future: can show only that it completed
                                    futuresStarted.incrementAndGet();
                                    MemorySegment view = arena.allocate(BLOCK, BLOCK);
                                    engine.read(file, view, position).whenComplete((n, error) -> {
                                        futuresDone.incrementAndGet();
                                        if (error != null) {
                                            failures.add(error.getClass());
                                        } else if (n != BLOCK || TestData.firstMismatch(view, position, SEED) != -1) {
                                            wrong.add("future read at " + position + " returned " + n);
                                        }
                                    });
                                }
                            }
                        } catch (RuntimeException e) {
                            wrong.add("submitting threw at once instead of failing the request: " + e);
                            if (i % 3 == 2) {
                                futuresDone.incrementAndGet();
                            } else {
                                deliveries.merge(request, 1, Integer::sum);
                            }
                        }
                    }
                }));
            }
            Thread.sleep(100);
            engine.close();
            Thread.sleep(50); // submitters keep going against the closed engine
            stop.set(true);
            for (Thread t : submitters) {
                t.join(30_000);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((deliveries.size() < started.get() || futuresDone.get() < futuresStarted.get())
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(100); // room for a late second delivery to show
            assertThat(deliveries).as("requests delivered, of %d started", started.get()).hasSize(started.get());
            assertThat(deliveries).allSatisfy((request, times) -> assertThat(times)
                    .as("deliveries of request %d:%d", request >>> 32, request & 0xFFFF_FFFFL).isEqualTo(1));
            assertThat(futuresDone.get()).as("futures completed").isEqualTo(futuresStarted.get());
            assertThat(failures).isSubsetOf(Set.of(AsynchronousCloseException.class, ClosedChannelException.class));
            assertThat(engine.outstanding()).isZero();
            assertThat(engine.bouncePool().outstandingBytes()).as("bounce buffers still out").isZero();
            // After close, a heap or misaligned buffer on a direct channel must fail through the future or the
            // handler (AsynchronousFileChannel's contract), as an aligned one does, not throw from the call.
            assertThat(wrong).as("requests that did not finish as they should").isEmpty();
        }
    }

    // ------------------------------------------- a ring full of pending polls

    /*
     * The kernel accepts at least the requested capacity of a context, whatever it does with the ring's extra
     * slots; AioContext.capacity() reports the requested number (AioContextTest), so pending polls up to
     * capacity() must be accepted without submit() waiting for a completion that never comes, and an engine
     * with its ring full of polls must still close.
     */

    @Test
    void shouldNotHangSubmittingAsManyPollsAsTheContextSaysItHolds() throws Exception {
        try (AioContext aio = AioContext.open(1); EventFd never = EventFd.open()) {
            for (int i = 0; i < aio.capacity(); i++) {
                aio.preparePoll(never, 1, i);
            }
            CompletableFuture<Object> submit = CompletableFuture.supplyAsync(() -> {
                try {
                    return aio.submit();
                } catch (Throwable t) {
                    return t;
                }
            }, runnable -> Thread.ofPlatform().daemon().start(runnable));
            Object outcome = awaitOrUnblock(submit, never, "AioContext.submit() of capacity() = " + aio.capacity()
                    + " pending polls, on a context opened with capacity 1");
            // Whatever the fix: all of them accepted, or a typed refusal; not a wait for ever.
            if (outcome instanceof Integer submitted) {
                assertThat(submitted).isEqualTo(aio.capacity());
            } else {
                assertThat(outcome).isInstanceOfAny(SubmitException.class, IllegalStateException.class);
            }
        }
    }

    @Test
    void shouldCloseAnEngineWhoseRingIsFullOfPendingPolls() throws Exception {
        AioEngine engine = AioEngine.builder().capacity(1).build();
        try (EventFd never = EventFd.open()) {
            List<CompletableFuture<Integer>> polls = new ArrayList<>();
            for (int i = 0; i < engine.capacity(); i++) {
                polls.add(engine.poll(never, 1));
            }
            Thread.sleep(100);
            CompletableFuture<Object> close = CompletableFuture.supplyAsync(() -> {
                engine.close();
                return "closed";
            }, runnable -> Thread.ofPlatform().daemon().start(runnable));
            awaitOrUnblock(close, never, "AioEngine.close() with capacity() = " + engine.capacity()
                    + " pending polls, on an engine built with capacity 1");
            for (CompletableFuture<Integer> poll : polls) {
                assertThat(poll).as("a pending poll, once the engine is closed").isDone();
            }
        }
    }

    /**
     * Waits 5 s for {@code call} (it takes milliseconds when it works); if it
     * is still blocked, makes the polls ready (which unblocks it, so nothing
     * is left hanging) and fails.
     */
    private static Object awaitOrUnblock(CompletableFuture<Object> call, EventFd polled, String what)
            throws Exception {
        try {
            return call.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            polled.write(1);
            call.get(30, TimeUnit.SECONDS);
            throw new AssertionError(what + " was still blocked after 5 s; it returned only once the polls "
                    + "completed (see the note above this test)");
        }
    }
}
