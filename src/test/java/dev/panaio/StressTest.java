package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.Blocks;
import dev.panaio.testing.ProcessResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random mixed reads, writes and fsyncs through every level of panaio at
 * once, from platform threads and many virtual threads, on direct and
 * buffered files whose 4096-byte blocks carry their number, a version and a
 * CRC ({@link Blocks}). Afterwards every block must hold exactly the last
 * version written to it, every request must have completed exactly once, and
 * the process must hold no more kernel contexts, descriptors or bounce
 * buffers than before.
 *
 * <p>Each worker owns a disjoint set of blocks and has at most one request
 * in flight per block, so the expected content of every block is known
 * exactly: a lost, torn, misplaced or reordered write shows, and so does a
 * read that filled the wrong buffer.
 *
 * <p>The load runs for {@code -Dpanaio.stress.seconds} (default 20, of which
 * the last two are for checking); a soak is the same test for longer, such as
 * {@code scripts/test -Dtest=StressTest -Dpanaio.stress.seconds=600}.
 * {@code -Dpanaio.stress.seed} replays the random choices of a run (each
 * thread's interleaving still differs).
 */
class StressTest {
    private static final long SECONDS = Long.getLong("panaio.stress.seconds", 20);
    private static final long SEED = Long.getLong("panaio.stress.seed", System.nanoTime());
    private static final int BLOCKS = 512;
    private static final int BLOCK = Blocks.SIZE;
    private static final long GUARD_SECONDS = 60;

    @TempDir
    Path dir;

    /** What went wrong anywhere, reported together at the end. */
    private final Queue<String> problems = new ConcurrentLinkedQueue<>();

    // ------------------------------------------------------------- the files

    /** One test file, with the version each block must hold: set by the block's owner when its write completes. */
    private static final class TestFile {
        final Path path;
        final boolean direct;
        final AtomicLongArray versions = new AtomicLongArray(BLOCKS);

        TestFile(Path path, boolean direct) {
            this.path = path;
            this.direct = direct;
        }

        /** Blocks owned by worker {@code w} of {@code n}. */
        int[] ownedBy(int w, int n) {
            int[] owned = new int[(BLOCKS - w + n - 1) / n];
            for (int i = 0; i < owned.length; i++) {
                owned[i] = w + i * n;
            }
            return owned;
        }

        @Override
        public String toString() {
            return path.getFileName() + (direct ? " (direct)" : " (buffered)");
        }
    }

    private TestFile createFile(String name, boolean direct) throws IOException {
        Path path = dir.resolve(name);
        try (FileChannel channel = FileChannel.open(path, CREATE, WRITE)) {
            ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
            for (int b = 0; b < BLOCKS; b++) {
                Blocks.fill(block.clear(), b, 0);
                channel.write(block.clear(), (long) b * BLOCK);
            }
            channel.force(true);
        }
        return new TestFile(path, direct);
    }

    /** Reads every block back with the JDK's own FileChannel, independently of panaio. */
    private void verifyFile(TestFile file) throws IOException {
        try (FileChannel channel = FileChannel.open(file.path, READ); Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(BLOCK);
            ByteBuffer view = block.asByteBuffer();
            for (int b = 0; b < BLOCKS; b++) {
                view.clear();
                while (view.hasRemaining()) {
                    if (channel.read(view, (long) b * BLOCK + view.position()) < 0) {
                        throw new AssertionError(file + " ends inside block " + b);
                    }
                }
                try {
                    Blocks.verify(block, b, file.versions.get(b));
                } catch (AssertionError e) {
                    problems.add(file + ": " + e.getMessage());
                }
            }
        }
    }

    // ---------------------------------------------------- exactly-once ledger

    /**
     * Requests of one level: each gets an id when submitted and must be delivered once, by that id.
     *
     * <p>{@link #complete} is called only where a second delivery would call it again: in an AioContext
     * CompletionConsumer (per tag) and in a CompletionHandler. A blocking call's return and a
     * CompletableFuture's callback happen once whatever panaio does below them (a future ignores a second
     * completion), so those record {@link #returned} instead, which shows a lost completion (the call or the
     * future never returns) but not a duplicate. AioEngineTest counts the engine's deliveries per request.
     */
    private final class Ledger {
        final String level;
        final AtomicLong nextId = new AtomicLong();
        final AtomicLong submitted = new AtomicLong();
        final AtomicLong completed = new AtomicLong();
        final AtomicLong returned = new AtomicLong();
        final Set<Long> outstanding = ConcurrentHashMap.newKeySet();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong writes = new AtomicLong();
        final AtomicLong syncs = new AtomicLong();

        Ledger(String level) {
            this.level = level;
        }

        long submit() {
            long id = nextId.getAndIncrement();
            outstanding.add(id);
            submitted.incrementAndGet();
            return id;
        }

        void complete(long id) {
            completed.incrementAndGet();
            if (!outstanding.remove(id)) {
                problems.add(level + ": request " + id + " completed twice, or was never submitted");
            }
        }

        /** A blocking call returned, or a future completed: at least once, a duplicate cannot show here. */
        void returned(long id) {
            returned.incrementAndGet();
            if (!outstanding.remove(id)) {
                problems.add(level + ": request " + id + " returned twice, or was never submitted");
            }
        }

        void problem(String what) {
            problems.add(level + ": " + what);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT,
                    "%-28s %8d submitted %8d delivered to callbacks %8d returned (%d reads, %d writes, %d syncs)",
                    level, submitted.get(), completed.get(), returned.get(), reads.get(), writes.get(), syncs.get());
        }
    }

    /** Runs {@code body} and records anything it throws as a problem of the level. */
    private static Runnable guarded(Ledger ledger, String who, ThrowingRunnable body) {
        return () -> {
            try {
                body.run();
            } catch (Throwable t) {
                ledger.problem(who + " failed: " + t + stackTop(t));
            }
        };
    }

    private static String stackTop(Throwable t) {
        StackTraceElement[] stack = t.getStackTrace();
        return stack.length == 0 ? "" : " at " + stack[0];
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    // ------------------------------------------------------------- the test

    @Test
    void shouldKeepEveryBlockIntactAndCompleteEveryRequestOnceThroughEveryLevelAtOnce() throws Exception {
        warmUp();
        ProcessResources before = ProcessResources.now();
        long workSeconds = Math.max(1, SECONDS - 2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(workSeconds);
        System.out.printf(Locale.ROOT, "StressTest: %d s of load, seed %d (-Dpanaio.stress.seed to replay)%n",
                workSeconds, SEED);

        List<TestFile> files = new ArrayList<>();
        List<Ledger> ledgers = new ArrayList<>();
        List<AioEngine> engines = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();

        // Level 1: AioContext, each on its own platform thread.
        TestFile[] contextFiles = {createFile("context-direct", true), createFile("context-buffered", false)};
        Ledger contextLedger = new Ledger("AioContext");
        AioFile[] contextAioFiles = openAioFiles(contextFiles);
        int contextThreads = 2;
        for (int w = 0; w < contextThreads; w++) {
            int worker = w;
            threads.add(Thread.ofPlatform().name("stress-context-" + w).start(guarded(contextLedger, "context " + w,
                    () -> runContext(contextLedger, contextFiles, contextAioFiles, worker, contextThreads, deadline))));
        }

        // Level 2: AioEngine futures, from platform and virtual threads.
        TestFile[] engineFiles = {createFile("engine-direct", true), createFile("engine-buffered", false)};
        Ledger engineLedger = new Ledger("AioEngine futures");
        AioEngine engine = AioEngine.builder().threads(2).capacity(64).maxPending(64).build();
        engines.add(engine);
        AioFile[] engineAioFiles = openAioFiles(engineFiles);
        int engineWorkers = 52;
        for (int w = 0; w < engineWorkers; w++) {
            int worker = w;
            Thread.Builder builder = w < 4 ? Thread.ofPlatform() : Thread.ofVirtual();
            threads.add(builder.name("stress-engine-" + w).start(guarded(engineLedger, "engine worker " + w,
                    () -> runEngine(engineLedger, engine, engineFiles, engineAioFiles, worker, engineWorkers,
                            deadline))));
        }

        // Level 3: AioFileChannel, blocking calls from virtual threads (and two platform threads).
        TestFile[] channelFiles = {createFile("channel-direct", true), createFile("channel-buffered", false)};
        Ledger channelLedger = new Ledger("AioFileChannel blocking");
        AioEngine channelEngine = AioEngine.builder().capacity(64).blockingThreads(4).build();
        engines.add(channelEngine);
        AioFileChannel[] channels = new AioFileChannel[channelFiles.length];
        for (int f = 0; f < channelFiles.length; f++) {
            channels[f] = AioFileChannel.open(channelFiles[f].path, options(channelFiles[f]), channelEngine);
        }
        int channelWorkers = 34;
        for (int w = 0; w < channelWorkers; w++) {
            int worker = w;
            Thread.Builder builder = w < 2 ? Thread.ofPlatform() : Thread.ofVirtual();
            threads.add(builder.name("stress-channel-" + w).start(guarded(channelLedger, "channel worker " + w,
                    () -> runChannel(channelLedger, channels, channelFiles, worker, channelWorkers, deadline))));
        }

        // Level 4: AioAsynchronousFileChannel, with CompletionHandlers and futures.
        TestFile[] asyncFiles = {createFile("async-direct", true), createFile("async-buffered", false)};
        Ledger asyncLedger = new Ledger("AioAsynchronousFileChannel");
        AioEngine asyncEngine = AioEngine.builder().capacity(64).blockingThreads(4).build();
        engines.add(asyncEngine);
        ExecutorService handlerThreads = Executors.newFixedThreadPool(2);
        AioAsynchronousFileChannel[] asyncChannels = {
                AioAsynchronousFileChannel.open(asyncFiles[0].path, options(asyncFiles[0]), null, asyncEngine),
                AioAsynchronousFileChannel.open(asyncFiles[1].path, options(asyncFiles[1]), handlerThreads,
                        asyncEngine)};
        int asyncWorkers = 2;
        for (int w = 0; w < asyncWorkers; w++) {
            int worker = w;
            threads.add(Thread.ofPlatform().name("stress-async-" + w).start(guarded(asyncLedger, "async worker " + w,
                    () -> runAsync(asyncLedger, asyncChannels, asyncFiles, worker, asyncWorkers, deadline))));
        }

        files.addAll(List.of(contextFiles));
        files.addAll(List.of(engineFiles));
        files.addAll(List.of(channelFiles));
        files.addAll(List.of(asyncFiles));
        ledgers.addAll(List.of(contextLedger, engineLedger, channelLedger, asyncLedger));

        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(workSeconds + GUARD_SECONDS));
            if (thread.isAlive()) {
                problems.add(thread.getName() + " still running " + GUARD_SECONDS + " s after the deadline");
            }
        }
        closeAll(contextAioFiles);
        closeAll(engineAioFiles);
        closeAll(channels);
        closeAll(asyncChannels);
        handlerThreads.shutdown();
        assertThat(handlerThreads.awaitTermination(GUARD_SECONDS, TimeUnit.SECONDS)).isTrue();
        for (AioEngine e : engines) {
            e.close();
        }

        for (Ledger ledger : ledgers) {
            System.out.println("  " + ledger);
        }
        for (TestFile file : files) {
            verifyFile(file);
        }
        assertThat(problems).as("problems seen under load").isEmpty();
        for (Ledger ledger : ledgers) {
            assertThat(ledger.submitted.get()).as("requests through %s", ledger.level).isPositive();
            assertThat(ledger.completed.get() + ledger.returned.get()).as("completions through %s", ledger.level)
                    .isEqualTo(ledger.submitted.get());
            assertThat(ledger.outstanding).as("requests through %s never completed", ledger.level).isEmpty();
        }
        for (AioEngine e : engines) {
            assertThat(e.outstanding()).as("requests left in %s", e).isZero();
            assertThat(e.bouncePool().outstandingBytes()).as("bounce buffers not given back to %s", e).isZero();
            assertThat(e.bouncePool().retainedBytes()).as("idle bounce buffers kept by closed %s", e).isZero();
        }
        assertResourcesGivenBack(before);
    }

    /** The first use of each path loads classes and may start JDK threads: keep that out of the baseline. */
    private void warmUp() throws Exception {
        TestFile file = createFile("warm-up", true);
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(file.path, options(file), engine);
             AioAsynchronousFileChannel async = AioAsynchronousFileChannel.open(file.path, options(file), null,
                     engine)) {
            ByteBuffer block = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
            channel.read(oneBlock(block), 0);
            async.read(oneBlock(block), 0).get(GUARD_SECONDS, TimeUnit.SECONDS);
            channel.read(ByteBuffer.allocate(BLOCK), 0);
        }
    }

    private void assertResourcesGivenBack(ProcessResources before) throws IOException, InterruptedException {
        ProcessResources after = ProcessResources.now();
        assertThat(after.aioRings()).as("AIO rings mapped in this process (one per open kernel context)")
                .isEqualTo(before.aioRings());
        assertThat(after.descriptorsOpenedSince(before)).as("descriptors left open").isEmpty();
        // fs.aio-nr is system-wide; another process on the machine (another test run) may move it.
        for (int i = 0; i < 50 && after.aioNr() != before.aioNr(); i++) {
            Thread.sleep(100);
            after = ProcessResources.now();
        }
        if (after.aioNr() != before.aioNr() && after.otherProcessesChangedAioContexts(before)) {
            System.out.printf(Locale.ROOT, "StressTest: fs.aio-nr went from %d to %d, but other processes opened or "
                    + "closed AIO contexts meanwhile (%s -> %s); this process's own rings are all gone%n",
                    before.aioNr(), after.aioNr(), before.otherAioRings(), after.otherAioRings());
            return;
        }
        assertThat(after.aioNr()).as("fs.aio-nr after every context and engine is closed")
                .isEqualTo(before.aioNr());
    }

    private static AioFile[] openAioFiles(TestFile[] files) throws IOException {
        AioFile[] opened = new AioFile[files.length];
        for (int f = 0; f < files.length; f++) {
            opened[f] = files[f].direct
                    ? AioFile.open(files[f].path, READ, WRITE, ExtendedOpenOption.DIRECT)
                    : AioFile.open(files[f].path, READ, WRITE);
        }
        return opened;
    }

    private static Set<OpenOption> options(TestFile file) {
        return file.direct ? Set.of(READ, WRITE, ExtendedOpenOption.DIRECT) : Set.of(READ, WRITE);
    }

    private static void closeAll(AutoCloseable... resources) throws Exception {
        for (AutoCloseable resource : resources) {
            resource.close();
        }
    }

    // --------------------------------------------------- level 1: AioContext

    private enum Kind { READ, WRITE, SYNC }

    private record ContextRequest(Kind kind, int file, int block, long version, MemorySegment buffer) {
    }

    private void runContext(Ledger ledger, TestFile[] files, AioFile[] aioFiles, int worker, int workers,
                            long deadline) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED ^ 0x1000 + worker);
        int depth = 24;
        int[][] owned = new int[files.length][];
        for (int f = 0; f < files.length; f++) {
            owned[f] = files[f].ownedBy(worker, workers);
        }
        RequestOptions prioritised = RequestOptions.NONE.withPriority(
                new IoPriority(IoPriority.IoClass.BEST_EFFORT, 4));
        try (AioContext aio = AioContext.open(32); Arena arena = Arena.ofShared()) {
            // One buffer per owned block: at most one request per block is in flight.
            MemorySegment[][] buffers = new MemorySegment[files.length][];
            boolean[][] busy = new boolean[files.length][];
            for (int f = 0; f < files.length; f++) {
                buffers[f] = new MemorySegment[owned[f].length];
                busy[f] = new boolean[owned[f].length];
                for (int i = 0; i < owned[f].length; i++) {
                    buffers[f][i] = arena.allocate(BLOCK, BLOCK);
                }
            }
            Map<Long, ContextRequest> pending = new HashMap<>();
            Map<Long, Integer> slotOf = new HashMap<>();
            CompletionConsumer onCompletion = (tag, result) -> {
                ContextRequest request = pending.remove(tag);
                ledger.complete(tag);
                if (request == null) {
                    return;
                }
                Integer slot = slotOf.remove(tag);
                if (slot != null) {
                    busy[request.file][slot] = false;
                }
                check(ledger, files[request.file], request.kind, request.block, request.version, request.buffer,
                        result);
            };
            boolean vectoredAllowed = !aioFiles[0].isDirect() || aioFiles[0].alignment().offset() <= BLOCK / 2;
            while (System.nanoTime() < deadline) {
                int batch = 1 + random.nextInt(8);
                for (int n = 0; n < batch && pending.size() < depth; n++) {
                    int f = random.nextInt(files.length);
                    int roll = random.nextInt(100);
                    if (roll < 6) {
                        long id = ledger.submit();
                        pending.put(id, new ContextRequest(Kind.SYNC, f, -1, 0, null));
                        if (roll < 3) {
                            aio.prepareFsync(aioFiles[f], id);
                        } else {
                            aio.prepareFdatasync(aioFiles[f], id);
                        }
                        ledger.syncs.incrementAndGet();
                        continue;
                    }
                    int slot = random.nextInt(owned[f].length);
                    if (busy[f][slot]) {
                        continue;
                    }
                    int block = owned[f][slot];
                    MemorySegment buffer = buffers[f][slot];
                    long position = (long) block * BLOCK;
                    RequestOptions options = random.nextInt(4) == 0 ? prioritised : RequestOptions.NONE;
                    long id = ledger.submit();
                    busy[f][slot] = true;
                    slotOf.put(id, slot);
                    if (roll < 53) {
                        buffer.fill((byte) 0);
                        pending.put(id, new ContextRequest(Kind.READ, f, block, 0, buffer));
                        if (vectoredAllowed && random.nextInt(4) == 0) {
                            MemorySegment[] halves = {buffer.asSlice(0, BLOCK / 2), buffer.asSlice(BLOCK / 2)};
                            aio.prepareReadVectored(aioFiles[f], halves, position, id, options);
                        } else {
                            aio.prepareRead(aioFiles[f], buffer, position, id, options);
                        }
                        ledger.reads.incrementAndGet();
                    } else {
                        long version = files[f].versions.get(block) + 1;
                        Blocks.fill(buffer, block, version);
                        pending.put(id, new ContextRequest(Kind.WRITE, f, block, version, buffer));
                        aio.prepareWrite(aioFiles[f], buffer, position, id, options);
                        ledger.writes.incrementAndGet();
                    }
                }
                if (aio.prepared() > 0) {
                    aio.submit();
                }
                if (aio.reap(onCompletion) == 0 && aio.inFlight() > 0) {
                    aio.await(1, 50, TimeUnit.MILLISECONDS, onCompletion);
                }
            }
            while (aio.inFlight() > 0) {
                if (aio.await(1, GUARD_SECONDS, TimeUnit.SECONDS, onCompletion) == 0) {
                    ledger.problem(aio.inFlight() + " requests never completed");
                    break;
                }
            }
            if (!pending.isEmpty()) {
                ledger.problem("no completion for tags " + pending.keySet());
            }
        }
    }

    /** Checks a completion against what the request expected, and records a completed write's version. */
    private static void check(Ledger ledger, TestFile file, Kind kind, int block, long version, MemorySegment buffer,
                              long result) {
        switch (kind) {
            case READ -> {
                if (result != BLOCK) {
                    ledger.problem("read of block " + block + " of " + file + " returned " + result);
                    return;
                }
                try {
                    Blocks.verify(buffer, block, file.versions.get(block));
                } catch (AssertionError e) {
                    ledger.problem("read of " + file + ": " + e.getMessage());
                }
            }
            case WRITE -> {
                if (result != BLOCK) {
                    ledger.problem("write of block " + block + " of " + file + " returned " + result);
                    return;
                }
                file.versions.set(block, version);
            }
            case SYNC -> {
                if (result != 0) {
                    ledger.problem("fsync of " + file + " returned " + result);
                }
            }
        }
    }

    // ------------------------------------------------ level 2: AioEngine futures

    private void runEngine(Ledger ledger, AioEngine engine, TestFile[] files, AioFile[] aioFiles, int worker,
                           int workers, long deadline) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED ^ 0x2000 + worker);
        int[][] owned = new int[files.length][];
        for (int f = 0; f < files.length; f++) {
            owned[f] = files[f].ownedBy(worker, workers);
        }
        try (Arena arena = Arena.ofShared()) {
            int maxBatch = 4;
            MemorySegment[] buffers = new MemorySegment[maxBatch];
            for (int i = 0; i < maxBatch; i++) {
                buffers[i] = arena.allocate(BLOCK, BLOCK);
            }
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            List<long[]> requests = new ArrayList<>(); // {kind, file, block, version, buffer index}
            while (System.nanoTime() < deadline) {
                futures.clear();
                requests.clear();
                Set<Long> chosen = new java.util.HashSet<>();
                int batch = 1 + random.nextInt(maxBatch);
                for (int n = 0; n < batch; n++) {
                    int f = random.nextInt(files.length);
                    int block = owned[f][random.nextInt(owned[f].length)];
                    if (!chosen.add((long) f << 32 | block)) {
                        continue; // one request per block at a time
                    }
                    int roll = random.nextInt(100);
                    long id = ledger.submit();
                    CompletableFuture<Integer> future;
                    Kind kind;
                    long version = 0;
                    if (roll < 6) {
                        kind = Kind.SYNC;
                        future = roll < 3 ? engine.fsync(aioFiles[f]) : engine.fdatasync(aioFiles[f]);
                        ledger.syncs.incrementAndGet();
                    } else if (roll < 53) {
                        kind = Kind.READ;
                        buffers[n].fill((byte) 0);
                        future = engine.read(aioFiles[f], buffers[n], (long) block * BLOCK);
                        ledger.reads.incrementAndGet();
                    } else {
                        kind = Kind.WRITE;
                        version = files[f].versions.get(block) + 1;
                        Blocks.fill(buffers[n], block, version);
                        future = engine.write(aioFiles[f], buffers[n], (long) block * BLOCK);
                        ledger.writes.incrementAndGet();
                    }
                    future.whenComplete((result, error) -> ledger.returned(id));
                    futures.add(future);
                    requests.add(new long[] {kind.ordinal(), f, block, version, n});
                }
                for (int i = 0; i < futures.size(); i++) {
                    long[] r = requests.get(i);
                    int result = futures.get(i).get(GUARD_SECONDS, TimeUnit.SECONDS);
                    check(ledger, files[(int) r[1]], Kind.values()[(int) r[0]], (int) r[2], r[3], buffers[(int) r[4]],
                            result);
                }
            }
        }
    }

    // ------------------------------------------ level 3: AioFileChannel blocking

    private void runChannel(Ledger ledger, AioFileChannel[] channels, TestFile[] files, int worker, int workers,
                            long deadline) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED ^ 0x3000 + worker);
        int[][] owned = new int[files.length][];
        for (int f = 0; f < files.length; f++) {
            owned[f] = files[f].ownedBy(worker, workers);
        }
        // The zero-copy path, and the two that go through bounce buffers on a direct channel.
        ByteBuffer aligned = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
        ByteBuffer heap = ByteBuffer.allocate(BLOCK);
        ByteBuffer misaligned = ByteBuffer.allocateDirect(3 * BLOCK).alignedSlice(BLOCK).position(8).slice()
                .limit(BLOCK);
        ByteBuffer[] kinds = {aligned, aligned, aligned, heap, misaligned};
        while (System.nanoTime() < deadline) {
            int f = random.nextInt(files.length);
            int block = owned[f][random.nextInt(owned[f].length)];
            long position = (long) block * BLOCK;
            ByteBuffer buffer = kinds[random.nextInt(kinds.length)];
            MemorySegment view = MemorySegment.ofBuffer(oneBlock(buffer));
            int roll = random.nextInt(100);
            long id = ledger.submit();
            if (roll < 4) {
                channels[f].force(roll < 2);
                ledger.returned(id);
                ledger.syncs.incrementAndGet();
            } else if (roll < 52) {
                view.fill((byte) 0);
                int n = channels[f].read(buffer, position);
                ledger.returned(id);
                ledger.reads.incrementAndGet();
                if (buffer.position() != n) {
                    ledger.problem("read returned " + n + " but advanced the buffer to " + buffer.position());
                }
                check(ledger, files[f], Kind.READ, block, 0, view, n);
            } else {
                long version = files[f].versions.get(block) + 1;
                Blocks.fill(view, block, version);
                int n = channels[f].write(buffer, position);
                ledger.returned(id);
                ledger.writes.incrementAndGet();
                check(ledger, files[f], Kind.WRITE, block, version, view, n);
            }
        }
    }

    /** The buffer reset to one block from its start: aligned slices may be larger. */
    private static ByteBuffer oneBlock(ByteBuffer buffer) {
        return buffer.clear().limit(BLOCK);
    }

    // ------------------------------- level 4: AioAsynchronousFileChannel handlers

    private record AsyncRequest(long id, Kind kind, int file, int slot, int block, long version, MemorySegment view) {
    }

    private void runAsync(Ledger ledger, AioAsynchronousFileChannel[] channels, TestFile[] files, int worker,
                          int workers, long deadline) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED ^ 0x4000 + worker);
        int depth = 16;
        Semaphore permits = new Semaphore(depth);
        int[][] owned = new int[files.length][];
        ByteBuffer[][] buffers = new ByteBuffer[files.length][];
        AtomicIntegerArray[] busy = new AtomicIntegerArray[files.length];
        for (int f = 0; f < files.length; f++) {
            owned[f] = files[f].ownedBy(worker, workers);
            buffers[f] = new ByteBuffer[owned[f].length];
            busy[f] = new AtomicIntegerArray(owned[f].length);
            for (int i = 0; i < owned[f].length; i++) {
                buffers[f][i] = i % 5 == 4
                        ? ByteBuffer.allocate(BLOCK)
                        : ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
            }
        }
        var handler = new CompletionHandler<Integer, AsyncRequest>() {
            @Override
            public void completed(Integer result, AsyncRequest request) {
                finish(request, result);
            }

            @Override
            public void failed(Throwable error, AsyncRequest request) {
                ledger.problem(request + " failed: " + error);
                finish(request, Long.MIN_VALUE);
            }

            private void finish(AsyncRequest request, long result) {
                ledger.complete(request.id);
                settle(request, result);
            }

            /** What both paths do once the request is recorded. */
            void settle(AsyncRequest request, long result) {
                if (result != Long.MIN_VALUE) {
                    check(ledger, files[request.file], request.kind, request.block, request.version, request.view,
                            result);
                }
                busy[request.file].set(request.slot, 0);
                permits.release();
            }
        };
        while (System.nanoTime() < deadline) {
            if (!permits.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                continue;
            }
            int f = random.nextInt(files.length);
            int slot = random.nextInt(owned[f].length);
            int roll = random.nextInt(100);
            if (roll < 4) {
                long id = ledger.submit();
                channels[f].force(roll < 2);
                ledger.returned(id);
                ledger.syncs.incrementAndGet();
                permits.release();
                continue;
            }
            if (!busy[f].compareAndSet(slot, 0, 1)) {
                permits.release();
                continue;
            }
            int block = owned[f][slot];
            ByteBuffer buffer = oneBlock(buffers[f][slot]);
            MemorySegment view = MemorySegment.ofBuffer(buffer);
            boolean read = roll < 52;
            long version = read ? 0 : files[f].versions.get(block) + 1;
            if (read) {
                view.fill((byte) 0);
            } else {
                Blocks.fill(view, block, version);
            }
            AsyncRequest request = new AsyncRequest(ledger.submit(), read ? Kind.READ : Kind.WRITE, f, slot, block,
                    version, view);
            (read ? ledger.reads : ledger.writes).incrementAndGet();
            long position = (long) block * BLOCK;
            if (random.nextInt(3) > 0) {
                if (read) {
                    channels[f].read(buffer, position, request, handler);
                } else {
                    channels[f].write(buffer, position, request, handler);
                }
            } else {
                CompletableFuture<Integer> future = read
                        ? channels[f].readAsync(buffer, position)
                        : channels[f].writeAsync(buffer, position);
                future.whenComplete((result, error) -> {
                    ledger.returned(request.id);
                    if (error != null) {
                        ledger.problem(request + " failed: " + error);
                    }
                    handler.settle(request, error != null ? Long.MIN_VALUE : result);
                });
            }
        }
        if (!permits.tryAcquire(depth, GUARD_SECONDS, TimeUnit.SECONDS)) {
            ledger.problem((depth - permits.availablePermits()) + " requests never completed");
        }
    }
}
