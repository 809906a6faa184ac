package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.engine.CompletionSink;
import dev.panaio.internal.engine.Request;
import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.ProcessResources;
import dev.panaio.testing.TestData;
import dev.panaio.testing.child.ExitWithIoInFlight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Faults while requests are in flight: close racing the owner, a file
 * truncated under its readers, interrupts and cancellation, the JVM ending,
 * and callbacks that throw. Each test states what panaio promises in that
 * case and checks the kernel never writes into a buffer after the call that
 * owned it has returned.
 */
class FaultTest {
    private static final int SEED = 29;
    private static final int BLOCK = 4096;
    /** How long a call may take before the test calls it hung. */
    private static final int HANG_SECONDS = 10;

    @TempDir
    Path dir;

    /** Copies a segment's bytes, to compare a buffer with itself later. */
    private static byte[] snapshot(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Gives a kernel that wrongly kept writing the time to do so, then checks it did not. */
    private static void assertUnchangedAfterAWhile(MemorySegment buffer, byte[] atReturn, String what)
            throws InterruptedException {
        Thread.sleep(50);
        assertThat(Arrays.mismatch(snapshot(buffer), atReturn)).as("first byte of %s changed after the call returned",
                what).isEqualTo(-1);
    }

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

    @Test
    void shouldReturnShortCountsOrEndOfFileButNeverGarbageWhenTheFileShrinksUnderReads() throws Exception {
        long size = 8 << 20;
        Path path = TestData.writeFile(dir.resolve("shrinking"), size, SEED);
        // The truncating thread sets atLeast before each truncate and atMost after it: the real size is always
        // between the two.
        AtomicLong atLeast = new AtomicLong(size);
        AtomicLong atMost = new AtomicLong(size);
        Queue<String> wrong = new ConcurrentLinkedQueue<>();
        AtomicInteger reads = new AtomicInteger();
        AtomicInteger shortOrEmpty = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        try (AioEngine engine = AioEngine.builder().capacity(32).build();
             AioFile direct = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             AioFile buffered = AioFile.open(path, READ);
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, ExtendedOpenOption.DIRECT), engine);
             AioAsynchronousFileChannel async = AioAsynchronousFileChannel.open(path, Set.of(READ), null, engine)) {
            // A read may see the file at any size between the one before it started and the one after it ended.
            ReadCheck check = (position, sizeBefore, n, data) -> {
                long after = atLeast.get();
                reads.incrementAndGet();
                long most = Math.min(BLOCK, Math.max(0, sizeBefore - position));
                long least = Math.min(BLOCK, Math.max(0, after - position));
                long got = Math.max(n, 0);
                if (got < least || got > most) {
                    wrong.add("read at " + position + " returned " + n + " while the file shrank from " + sizeBefore
                            + " to " + after + " bytes");
                } else if (TestData.firstMismatch(data.asSlice(0, got), position, SEED) != -1) {
                    wrong.add("read at " + position + " returned other bytes than the file's");
                }
                if (got < BLOCK) {
                    shortOrEmpty.incrementAndGet();
                }
            };
            List<Thread> readers = new ArrayList<>();
            readers.add(Thread.ofPlatform().start(() -> readWithContext(direct, atMost, check, done, wrong)));
            for (int t = 0; t < 4; t++) {
                int id = t;
                readers.add(Thread.ofVirtual().start(() -> {
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment segment = arena.allocate(BLOCK, BLOCK);
                        ByteBuffer direct4k = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
                        SplittableRandom random = new SplittableRandom(id);
                        while (!done.get()) {
                            long position = random.nextLong(size / BLOCK) * BLOCK + (id == 3 ? 100 : 0);
                            long sizeBefore = atMost.get();
                            switch (id) {
                                case 0 -> check.seen(position, sizeBefore,
                                        engine.read(buffered, segment, position).join(), segment);
                                case 1 -> {
                                    direct4k.clear().limit(BLOCK);
                                    int n = channel.read(direct4k, position);
                                    check.seen(position, sizeBefore, n, MemorySegment.ofBuffer(direct4k.flip()));
                                }
                                default -> {
                                    ByteBuffer heap = ByteBuffer.allocate(BLOCK);
                                    int n = async.read(heap, position).get(30, TimeUnit.SECONDS);
                                    check.seen(position, sizeBefore, n, MemorySegment.ofBuffer(heap.flip()));
                                }
                            }
                        }
                    } catch (Exception e) {
                        wrong.add("reader " + id + " failed: " + e);
                    }
                }));
            }
            try (FileChannel truncator = FileChannel.open(path, WRITE)) {
                for (long newSize = size; newSize >= 0; newSize -= size / 64 + 1000) {
                    atLeast.set(newSize);
                    truncator.truncate(newSize);
                    atMost.set(newSize);
                    Thread.sleep(2);
                }
                atLeast.set(0);
                truncator.truncate(0);
                atMost.set(0);
                Thread.sleep(20);
            }
            done.set(true);
            for (Thread reader : readers) {
                reader.join(30_000);
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(reads.get()).isPositive();
        assertThat(shortOrEmpty.get()).as("reads that met the moving end of file").isPositive();
    }

    @FunctionalInterface
    private interface ReadCheck {
        void seen(long position, long sizeBefore, long result, MemorySegment data);
    }

    private static void readWithContext(AioFile file, AtomicLong atMost, ReadCheck check, AtomicBoolean done,
                                        Queue<String> wrong) {
        try (AioContext aio = AioContext.open(32); Arena arena = Arena.ofConfined()) {
            MemorySegment buffers = arena.allocate(16L * BLOCK, BLOCK);
            SplittableRandom random = new SplittableRandom(SEED);
            long[] positions = new long[16];
            long[] sizeBefore = new long[1];
            CompletionConsumer onCompletion = (tag, result) ->
                    check.seen(positions[(int) tag], sizeBefore[0], result, buffers.asSlice(tag * BLOCK, BLOCK));
            while (!done.get()) {
                sizeBefore[0] = atMost.get();
                for (int i = 0; i < 16; i++) {
                    positions[i] = random.nextLong((8 << 20) / BLOCK) * BLOCK;
                    aio.prepareRead(file, buffers.asSlice((long) i * BLOCK, BLOCK), positions[i], i);
                }
                aio.submit();
                while (aio.inFlight() > 0) {
                    aio.await(1, 10, TimeUnit.SECONDS, onCompletion);
                }
            }
        } catch (IOException | RuntimeException e) {
            wrong.add("context reader failed: " + e);
        }
    }

    // ------------------------------------------------ interrupts and close

    enum Interruption { INTERRUPT, CLOSE }

    enum Transfer { DIRECT_READ, DIRECT_WRITE, UNCACHED_BUFFERED_READ, BUFFERED_WRITE }

    /**
     * A thread blocked in a large read or write is interrupted (or the
     * channel closed under it): the call throws ClosedByInterruptException
     * (AsynchronousCloseException; ClosedChannelException when the close came
     * before the call checked the channel), the channel is closed, the interrupt
     * status stays set, and the call has returned only once the kernel
     * finished: the whole buffer was read into (or written), and nothing
     * changes afterwards. A call that finished before the interrupt landed
     * returns normally.
     */
    @ParameterizedTest(name = "{0} {1} on a {2} thread, {3} buffer")
    @CsvSource({
            "DIRECT_READ, INTERRUPT, platform, native", "DIRECT_READ, INTERRUPT, virtual, native",
            "DIRECT_READ, CLOSE, virtual, native",
            "DIRECT_WRITE, INTERRUPT, platform, native", "DIRECT_WRITE, INTERRUPT, virtual, native",
            "DIRECT_WRITE, CLOSE, platform, native",
            "UNCACHED_BUFFERED_READ, INTERRUPT, platform, native", "UNCACHED_BUFFERED_READ, INTERRUPT, virtual, native",
            "UNCACHED_BUFFERED_READ, CLOSE, virtual, native", "BUFFERED_WRITE, INTERRUPT, virtual, native",
            // Bounced: a heap buffer and a misaligned one go to the kernel through the engine's aligned memory.
            "DIRECT_READ, INTERRUPT, platform, heap", "DIRECT_READ, INTERRUPT, virtual, misaligned",
            "DIRECT_READ, CLOSE, virtual, heap", "DIRECT_WRITE, INTERRUPT, virtual, heap",
            "DIRECT_WRITE, INTERRUPT, platform, misaligned"})
    void shouldReturnFromAnInterruptedOrClosedChannelCallOnlyOnceTheKernelIsDone(Transfer kind,
            Interruption interruption, String threadKind, String bufferKind) throws Exception {
        int size = 32 << 20;
        Path path = TestData.writeFile(dir.resolve("interrupt"), size, SEED);
        boolean direct = kind == Transfer.DIRECT_READ || kind == Transfer.DIRECT_WRITE;
        boolean read = kind == Transfer.DIRECT_READ || kind == Transfer.UNCACHED_BUFFERED_READ;
        if (!direct) {
            PageCache.evict(path);
        }
        Set<OpenOption> options = direct ? Set.of(READ, WRITE, ExtendedOpenOption.DIRECT) : Set.of(READ, WRITE);
        try (AioEngine engine = AioEngine.open(); Arena arena = Arena.ofShared()) {
            AioFileChannel channel = AioFileChannel.open(path, options, engine);
            ByteBuffer buffer = callerBuffer(bufferKind, arena, size);
            MemorySegment memory = MemorySegment.ofBuffer(buffer);
            if (!read) {
                TestData.fill(memory, 0, SEED + 1);
            }
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicBoolean interruptedAfter = new AtomicBoolean();
            CountDownLatch calling = new CountDownLatch(1);
            Runnable call = () -> {
                calling.countDown();
                try {
                    outcome.set(read ? channel.read(buffer, 0) : channel.write(buffer, 0));
                } catch (Throwable t) {
                    outcome.set(t);
                }
                interruptedAfter.set(Thread.currentThread().isInterrupted());
            };
            Thread caller = threadKind.equals("virtual") ? Thread.ofVirtual().start(call)
                    : Thread.ofPlatform().start(call);
            calling.await();
            Thread.sleep(1);
            if (interruption == Interruption.INTERRUPT) {
                caller.interrupt();
            } else {
                channel.close();
            }
            caller.join(30_000);
            assertThat(caller.isAlive()).isFalse();
            byte[] atReturn = snapshot(memory);
            Object result = outcome.get();
            System.out.printf("%s %s on a %s thread, %s buffer: %s%n", kind, interruption, threadKind, bufferKind,
                    result);
            if (result instanceof Integer n) {
                // A buffered read may stop short where the page cache did (RWF_NOWAIT), like any read.
                assertThat(n).as("bytes a completed call transferred").isPositive().isLessThanOrEqualTo(size);
                if (direct || !read) {
                    assertThat(n).as("a completed direct read or a write transfers everything").isEqualTo(size);
                }
            } else {
                // A close that lands before the call has checked the channel gives ClosedChannelException
                // itself, as the JDK's does; once the call is under way, its subclass AsynchronousCloseException.
                Class<?> expected = interruption == Interruption.INTERRUPT ? ClosedByInterruptException.class
                        : ClosedChannelException.class;
                assertThat(result).isInstanceOf(expected);
                assertThat(channel.isOpen()).isFalse();
            }
            if (result instanceof ClosedByInterruptException) {
                assertThat(interruptedAfter.get()).as("interrupt status after the interrupted call").isTrue();
            }
            assertUnchangedAfterAWhile(memory, atReturn, "the caller's buffer");
            channel.close();
            if (read && result instanceof Integer n) {
                assertThat(TestData.firstMismatch(memory.asSlice(0, n), 0, SEED)).isEqualTo(-1);
            } else if (read) {
                // Interrupted: the read was either never submitted (the buffer is untouched) or done in full.
                long mismatch = TestData.firstMismatch(memory, 0, SEED);
                assertThat(mismatch == -1 || isAllZero(memory))
                        .as("buffer after an interrupted read: all of the file or untouched (first mismatch at %d)",
                                mismatch).isTrue();
            } else {
                byte[] file = Files.readAllBytes(path);
                MemorySegment written = MemorySegment.ofArray(file);
                long asWritten = TestData.firstMismatch(written, 0, SEED + 1);
                long asBefore = TestData.firstMismatch(written, 0, SEED);
                assertThat(asWritten == -1 || asBefore == -1)
                        .as("file after an interrupted write: all new or all old (first new-data mismatch at %d)",
                                asWritten).isTrue();
            }
            assertThat(engine.outstanding()).isZero();
            assertThat(engine.bouncePool().outstandingBytes()).isZero();
        }
    }

    /**
     * The close provably lands while a direct call is in flight: the engine's one slot is held by a poll, so
     * the call's request waits in the engine's queue, where its caller is seen parked, until the close has
     * returned; only then is the poll released. The request then meets its closed file and the call throws
     * AsynchronousCloseException with the buffer (or the file) untouched. (Whether a close lands while a
     * direct request is inside the kernel is a race on this machine's disk, so the rows above accept both
     * outcomes; CloseDuringKernelReadTest holds the read in the kernel to make that case certain: the read
     * then returns its whole count, as the JDK's does.)
     */
    @ParameterizedTest(name = "{0} on a {1} thread")
    @CsvSource({"DIRECT_READ, platform", "DIRECT_READ, virtual", "DIRECT_WRITE, platform", "DIRECT_WRITE, virtual"})
    void shouldThrowAsynchronousCloseExceptionWhenClosedWhileADirectCallWaitsInTheEngine(Transfer kind,
            String threadKind) throws Exception {
        int size = 1 << 20;
        Path path = TestData.writeFile(dir.resolve("close-queued"), size, SEED);
        boolean read = kind == Transfer.DIRECT_READ;
        try (AioEngine engine = AioEngine.builder().capacity(1).build(); EventFd gate = EventFd.open();
             Arena arena = Arena.ofShared()) {
            CompletableFuture<Integer> poll = engine.poll(gate, 1);
            AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, WRITE, ExtendedOpenOption.DIRECT), engine);
            MemorySegment memory = arena.allocate(size, BLOCK);
            if (!read) {
                TestData.fill(memory, 0, SEED + 1);
            }
            ByteBuffer buffer = memory.asByteBuffer();
            AtomicReference<Object> outcome = new AtomicReference<>();
            Runnable call = () -> {
                try {
                    outcome.set(read ? channel.read(buffer, 0) : channel.write(buffer, 0));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            };
            Thread caller = threadKind.equals("virtual") ? Thread.ofVirtual().start(call)
                    : Thread.ofPlatform().start(call);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
            while (!parkedIn(caller, AioFileChannel.class) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(parkedIn(caller, AioFileChannel.class)).as("caller parked in the channel call: %s",
                    Arrays.toString(caller.getStackTrace())).isTrue();
            assertThat(outcome.get()).as("outcome before the close").isNull();
            Thread closer = Thread.ofPlatform().start(() -> {
                try {
                    channel.close();
                } catch (IOException e) {
                    outcome.compareAndSet(null, e);
                }
            });
            closer.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertThat(closer.isAlive()).as("close() with the call's request queued").isFalse();
            assertThat(outcome.get()).as("outcome once close() returned, the request still queued").isNull();
            gate.write(1); // only now can the request leave the queue
            assertThat(poll.get(HANG_SECONDS, TimeUnit.SECONDS) & 1).isEqualTo(1);
            caller.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertThat(caller.isAlive()).as("caller after the close").isFalse();
            assertThat(outcome.get()).isInstanceOf(AsynchronousCloseException.class);
            assertThat(channel.isOpen()).isFalse();
            if (read) {
                assertThat(isAllZero(memory)).as("the buffer of a read that never reached the kernel").isTrue();
            } else {
                assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)), 0, SEED))
                        .as("the file under a write that never reached the kernel").isEqualTo(-1);
            }
            assertThat(engine.outstanding()).isZero();
        }
    }

    /**
     * A caller's buffer of {@code size} zero bytes: {@code native} (aligned, of a shared arena), {@code heap}, or
     * {@code misaligned} (native, one byte off alignment); the last two are bounced on a direct channel.
     */
    private static ByteBuffer callerBuffer(String kind, Arena arena, int size) {
        return switch (kind) {
            case "native" -> arena.allocate(size, BLOCK).asByteBuffer();
            case "heap" -> ByteBuffer.allocate(size);
            case "misaligned" -> arena.allocate(size + 1L, BLOCK).asSlice(1, size).asByteBuffer();
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** Whether {@code thread} is parked (WAITING) with {@code type} on its stack. */
    private static boolean parkedIn(Thread thread, Class<?> type) {
        return thread.getState() == Thread.State.WAITING && Arrays.stream(thread.getStackTrace())
                .anyMatch(frame -> frame.getClassName().equals(type.getName()));
    }

    private static boolean isAllZero(MemorySegment segment) {
        return segment.asByteBuffer().mismatch(ByteBuffer.allocate((int) segment.byteSize())) == -1;
    }

    /**
     * Observed semantics of {@code Future.cancel(true)} on panaio's
     * asynchronous channel and engine: the future reports cancelled at once,
     * but a file read in flight cannot be cancelled (Linux cancels only
     * polls): the kernel still fills the buffer, and the ByteBuffer's position
     * still advances when it does. The channel and engine stay usable.
     */
    @ParameterizedTest
    @EnumSource(names = {"DIRECT_READ", "UNCACHED_BUFFERED_READ"})
    void shouldStillFillTheBufferOfACancelledReadAndStayUsable(Transfer kind) throws Exception {
        int size = 16 << 20;
        Path path = TestData.writeFile(dir.resolve("cancel"), size, SEED);
        boolean direct = kind == Transfer.DIRECT_READ;
        if (!direct) {
            PageCache.evict(path);
        }
        Set<OpenOption> options = direct ? Set.of(READ, ExtendedOpenOption.DIRECT) : Set.of(READ);
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, options, null, engine);
             Arena arena = Arena.ofShared()) {
            MemorySegment memory = arena.allocate(size, BLOCK);
            ByteBuffer buffer = memory.asByteBuffer();
            Future<Integer> read = channel.read(buffer, 0);
            boolean cancelled = read.cancel(true);
            if (cancelled) {
                assertThat(read.isCancelled()).isTrue();
                assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (buffer.position() != size && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(buffer.position()).as("position of the cancelled read's buffer, once the kernel is done")
                    .isEqualTo(size);
            assertThat(TestData.firstMismatch(memory, 0, SEED)).isEqualTo(-1);
            assertThat(channel.isOpen()).isTrue();
            assertThat(channel.read(ByteBuffer.allocate(BLOCK), BLOCK).get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);

            // The engine's own futures behave the same way.
            try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
                MemorySegment segment = arena.allocate(size, BLOCK);
                CompletableFuture<Integer> raw = engine.read(file, segment, 0);
                raw.cancel(true); // false only if the 16 MiB read already completed: the checks below hold either way
                // outstanding() does not count a request on its way from the queue into the ring: wait for the data.
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (TestData.firstMismatch(segment, 0, SEED) != -1 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertThat(TestData.firstMismatch(segment, 0, SEED)).as("first byte the kernel did not fill")
                        .isEqualTo(-1);
                while (engine.outstanding() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertThat(engine.outstanding()).isZero();
                assertThat(engine.read(file, segment.asSlice(0, BLOCK), 0).get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);
            }
        }
    }

    /**
     * As above, with a buffer the channel bounces: the cancelled read still
     * completes into the engine's aligned memory, is copied on into the
     * caller's buffer, and the bounce buffer goes back to its pool only then.
     */
    @ParameterizedTest
    @CsvSource({"heap", "misaligned"})
    void shouldStillCopyACancelledBouncedReadIntoTheBufferAndGiveTheBounceBufferBack(String bufferKind)
            throws Exception {
        int size = 16 << 20;
        Path path = TestData.writeFile(dir.resolve("cancel-bounced"), size, SEED);
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                     Set.of(READ, ExtendedOpenOption.DIRECT), null, engine);
             Arena arena = Arena.ofShared()) {
            ByteBuffer buffer = callerBuffer(bufferKind, arena, size);
            Future<Integer> read = channel.read(buffer, 0);
            if (read.cancel(true)) {
                assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((buffer.position() != size || engine.bouncePool().outstandingBytes() != 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(buffer.position()).as("position of the cancelled read's buffer, once the kernel is done")
                    .isEqualTo(size);
            assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(buffer.flip()), 0, SEED)).isEqualTo(-1);
            assertThat(engine.bouncePool().outstandingBytes()).as("bounce buffers still out").isZero();
            assertThat(engine.outstanding()).isZero();
            assertThat(channel.read(ByteBuffer.allocate(BLOCK), BLOCK).get(10, TimeUnit.SECONDS)).isEqualTo(BLOCK);
        }
    }

    @Test
    void shouldKeepWaitingInAwaitWhenTheOwnerIsInterruptedAndKeepTheInterruptStatus() throws Exception {
        try (AioContext aio = AioContext.open(4); EventFd ready = EventFd.open()) {
            aio.preparePoll(ready, 1, 7);
            aio.submit();
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicBoolean stillInterrupted = new AtomicBoolean();
            CountDownLatch waiting = new CountDownLatch(1);
            Thread owner = Thread.ofPlatform().start(() -> {
                waiting.countDown();
                try {
                    long[] tag = {-1};
                    int n = aio.await(1, 30, TimeUnit.SECONDS, (t, r) -> tag[0] = t);
                    outcome.set(n == 1 ? tag[0] : (Object) ("delivered " + n));
                } catch (Throwable t) {
                    outcome.set(t);
                }
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            });
            waiting.await();
            owner.interrupt();
            Thread.sleep(20);
            ready.write(1);
            owner.join(30_000);
            assertThat(outcome.get()).as("what await gave the interrupted owner").isEqualTo(7L);
            assertThat(stillInterrupted.get()).isTrue();
        }
    }

    @Test
    void shouldFailASubmitterParkedByBackpressureWithInterruptedIoExceptionWhenInterrupted() throws Exception {
        try (AioEngine engine = AioEngine.builder().maxPending(1).build(); EventFd ready = EventFd.open()) {
            // Hold the engine thread in a completion stage, so that nothing leaves the queue.
            CountDownLatch inStage = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            try {
                CompletableFuture<Integer> first = engine.poll(ready, 1);
                CompletableFuture<Void> stage = first.thenRun(() -> {
                    inStage.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                ready.write(1);
                assertThat(inStage.await(10, TimeUnit.SECONDS)).isTrue();
                CompletableFuture<Integer> queued = engine.poll(ready, 1); // takes the one queue place
                AtomicReference<CompletableFuture<Integer>> parked = new AtomicReference<>();
                AtomicBoolean stillInterrupted = new AtomicBoolean();
                Thread submitter = Thread.ofVirtual().start(() -> {
                    parked.set(engine.poll(ready, 1));
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                });
                while (submitter.getState() != Thread.State.WAITING) {
                    Thread.sleep(5); // parked on the engine's permits: there is no room
                }
                assertThat(parked.get()).as("the submitter is parked: no room yet").isNull();
                submitter.interrupt();
                submitter.join(30_000);
                // As an interrupted blocking I/O call in the JDK: the wait ends, the request was never accepted.
                assertThat(parked.get()).as("the interrupted submitter's poll").isNotNull();
                assertThat(parked.get()).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
                        .havingCause().isInstanceOf(java.io.InterruptedIOException.class);
                assertThat(stillInterrupted.get()).as("interrupt status of the parked submitter").isTrue();
                release.countDown();
                for (CompletableFuture<Integer> poll : List.of(first, queued)) {
                    assertThat(poll.get(10, TimeUnit.SECONDS) & 1).isEqualTo(1);
                }
                stage.get(10, TimeUnit.SECONDS);
            } finally {
                release.countDown(); // never leave the engine thread held, or close() would wait for it
            }
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

    // ------------------------------------------------------- JVM exit

    @ParameterizedTest(name = "{0}")
    @CsvSource({"exit, 42", "exit-in-callback, 43", "return, 0", "context, 44"})
    void shouldLetTheJvmExitPromptlyWithThousandsOfReadsInFlight(String mode, int exitCode) throws Exception {
        Path path = TestData.writeFile(dir.resolve("exit"), 16 << 20, SEED);
        long drainMillis = millisToRead4000Blocks(path);
        PageCache.evict(path);
        ChildJvm.Outcome run = ChildJvm.onClassPath(ExitWithIoInFlight.class,
                List.of("--enable-native-access=ALL-UNNAMED"), path.toString(), "4000", mode);
        long gone = System.nanoTime();
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(exitCode);
        assertThat(run.stdout()).as(run.toString()).contains("submitted=4000");
        // The child prints System.nanoTime (CLOCK_MONOTONIC, shared by all processes) once its reads are submitted.
        Matcher at = Pattern.compile("atNanos=(\\d+)").matcher(run.stdout());
        assertThat(at.find()).as(run.toString()).isTrue();
        long exitMillis = TimeUnit.NANOSECONDS.toMillis(gone - Long.parseLong(at.group(1)));
        // Exiting may wait for the kernel to finish the reads (exit_aio does) and for the JVM to shut down, nothing
        // else: a wait for a timeout, an engine thread or the child's 60 s sleep is far beyond this bound.
        long bound = 10_000 + 10 * drainMillis;
        System.out.printf("child JVM, %s with 4000 reads in flight: exit %d, %d ms after submitting (4000 reads "
                + "take %d ms here; bound %d ms)%n", mode, run.exitCode(), exitMillis, drainMillis, bound);
        assertThat(exitMillis).as("ms from the child's last submit to its end").isLessThan(bound);
        assertThat(run.stderr()).as("the child's stderr").doesNotContain("Exception", "fatal error", "SIGSEGV");
    }

    /** How long this machine takes to read 4000 direct 4 KiB blocks of {@code path} through an engine. */
    private static long millisToRead4000Blocks(Path path) throws Exception {
        try (AioEngine engine = AioEngine.builder().capacity(256).build();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); Arena arena = Arena.ofShared()) {
            MemorySegment buffers = arena.allocate(4000 * 4096L, 4096);
            long start = System.nanoTime();
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            for (int i = 0; i < 4000; i++) {
                reads.add(engine.read(file, buffers.asSlice(i * 4096L, 4096), (i % 4096) * 4096L));
            }
            CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }
    }

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
