package dev.panaio;

import dev.panaio.testing.Blocks;
import dev.panaio.testing.ProcessResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

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
 *
 * <p>The files are {@link StressFile}s, each level counts its requests in a
 * {@link StressLedger}, and the per-level loops are in {@link StressWorkers}.
 */
class StressTest {
    private static final long SECONDS = Long.getLong("panaio.stress.seconds", 20);
    private static final long SEED = Long.getLong("panaio.stress.seed", System.nanoTime());
    private static final int BLOCK = Blocks.SIZE;

    @TempDir
    Path dir;

    /** What went wrong anywhere, reported together at the end. */
    private final Queue<String> problems = new ConcurrentLinkedQueue<>();


    @Test
    void shouldKeepEveryBlockIntactAndCompleteEveryRequestOnceThroughEveryLevelAtOnce() throws Exception {
        warmUp();
        ProcessResources before = ProcessResources.now();
        long workSeconds = Math.max(1, SECONDS - 2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(workSeconds);
        System.out.printf(Locale.ROOT, "StressTest: %d s of load, seed %d (-Dpanaio.stress.seed to replay)%n",
                workSeconds, SEED);

        List<StressFile> files = new ArrayList<>();
        List<StressLedger> ledgers = new ArrayList<>();
        List<AioEngine> engines = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();

        // Level 1: AioContext, each on its own platform thread.
        StressFile[] contextFiles = {StressFile.create(dir, "context-direct", true),
                StressFile.create(dir, "context-buffered", false)};
        StressLedger contextLedger = new StressLedger("AioContext", problems);
        AioFile[] contextAioFiles = StressFile.openAioFiles(contextFiles);
        int contextThreads = 2;
        for (int w = 0; w < contextThreads; w++) {
            int worker = w;
            threads.add(Thread.ofPlatform().name("stress-context-" + w).start(contextLedger.guarded("context " + w,
                    () -> StressWorkers.runContext(SEED, contextLedger, contextFiles, contextAioFiles, worker,
                            contextThreads, deadline))));
        }

        // Level 2: AioEngine futures, from platform and virtual threads.
        StressFile[] engineFiles = {StressFile.create(dir, "engine-direct", true),
                StressFile.create(dir, "engine-buffered", false)};
        StressLedger engineLedger = new StressLedger("AioEngine futures", problems);
        AioEngine engine = AioEngine.builder().threads(2).capacity(64).maxPending(64).build();
        engines.add(engine);
        AioFile[] engineAioFiles = StressFile.openAioFiles(engineFiles);
        int engineWorkers = 52;
        for (int w = 0; w < engineWorkers; w++) {
            int worker = w;
            Thread.Builder builder = w < 4 ? Thread.ofPlatform() : Thread.ofVirtual();
            threads.add(builder.name("stress-engine-" + w).start(engineLedger.guarded("engine worker " + w,
                    () -> StressWorkers.runEngine(SEED, engineLedger, engine, engineFiles, engineAioFiles, worker,
                            engineWorkers, deadline))));
        }

        // Level 3: AioFileChannel, blocking calls from virtual threads (and two platform threads).
        StressFile[] channelFiles = {StressFile.create(dir, "channel-direct", true),
                StressFile.create(dir, "channel-buffered", false)};
        StressLedger channelLedger = new StressLedger("AioFileChannel blocking", problems);
        AioEngine channelEngine = AioEngine.builder().capacity(64).blockingThreads(4).build();
        engines.add(channelEngine);
        AioFileChannel[] channels = new AioFileChannel[channelFiles.length];
        for (int f = 0; f < channelFiles.length; f++) {
            channels[f] = AioFileChannel.open(channelFiles[f].path, channelFiles[f].options(), channelEngine);
        }
        int channelWorkers = 34;
        for (int w = 0; w < channelWorkers; w++) {
            int worker = w;
            Thread.Builder builder = w < 2 ? Thread.ofPlatform() : Thread.ofVirtual();
            threads.add(builder.name("stress-channel-" + w).start(channelLedger.guarded("channel worker " + w,
                    () -> StressWorkers.runChannel(SEED, channelLedger, channels, channelFiles, worker,
                            channelWorkers, deadline))));
        }

        // Level 4: AioAsynchronousFileChannel, with CompletionHandlers and futures.
        StressFile[] asyncFiles = {StressFile.create(dir, "async-direct", true),
                StressFile.create(dir, "async-buffered", false)};
        StressLedger asyncLedger = new StressLedger("AioAsynchronousFileChannel", problems);
        AioEngine asyncEngine = AioEngine.builder().capacity(64).blockingThreads(4).build();
        engines.add(asyncEngine);
        ExecutorService handlerThreads = Executors.newFixedThreadPool(2);
        AioAsynchronousFileChannel[] asyncChannels = {
                AioAsynchronousFileChannel.open(asyncFiles[0].path, asyncFiles[0].options(), null, asyncEngine),
                AioAsynchronousFileChannel.open(asyncFiles[1].path, asyncFiles[1].options(), handlerThreads,
                        asyncEngine)};
        int asyncWorkers = 2;
        for (int w = 0; w < asyncWorkers; w++) {
            int worker = w;
            threads.add(Thread.ofPlatform().name("stress-async-" + w).start(asyncLedger.guarded("async worker " + w,
                    () -> StressWorkers.runAsync(SEED, asyncLedger, asyncChannels, asyncFiles, worker, asyncWorkers,
                            deadline))));
        }

        files.addAll(List.of(contextFiles));
        files.addAll(List.of(engineFiles));
        files.addAll(List.of(channelFiles));
        files.addAll(List.of(asyncFiles));
        ledgers.addAll(List.of(contextLedger, engineLedger, channelLedger, asyncLedger));

        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(workSeconds + StressWorkers.GUARD_SECONDS));
            if (thread.isAlive()) {
                problems.add(thread.getName() + " still running " + StressWorkers.GUARD_SECONDS
                        + " s after the deadline");
            }
        }
        closeAll(contextAioFiles);
        closeAll(engineAioFiles);
        closeAll(channels);
        closeAll(asyncChannels);
        handlerThreads.shutdown();
        assertThat(handlerThreads.awaitTermination(StressWorkers.GUARD_SECONDS, TimeUnit.SECONDS)).isTrue();
        for (AioEngine e : engines) {
            e.close();
        }

        for (StressLedger ledger : ledgers) {
            System.out.println("  " + ledger);
        }
        for (StressFile file : files) {
            file.verify(problems);
        }
        assertThat(problems).as("problems seen under load").isEmpty();
        for (StressLedger ledger : ledgers) {
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
        StressFile file = StressFile.create(dir, "warm-up", true);
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(file.path, file.options(), engine);
             AioAsynchronousFileChannel async = AioAsynchronousFileChannel.open(file.path, file.options(), null,
                     engine)) {
            ByteBuffer block = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
            channel.read(StressWorkers.oneBlock(block), 0);
            async.read(StressWorkers.oneBlock(block), 0).get(StressWorkers.GUARD_SECONDS, TimeUnit.SECONDS);
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

    private static void closeAll(AutoCloseable... resources) throws Exception {
        for (AutoCloseable resource : resources) {
            resource.close();
        }
    }
}
