package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.child.FailingThreadFactoryProbe;
import dev.panaio.testing.child.HandlerThreadFactoryProbe;
import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.zip.CRC32;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** panaio's own promises for its channels, beyond the JDK contract (see the *ContractTest classes). */
class AioFileChannelTest {
    private static final int SEED = 1;

    @TempDir
    Path dir;

    // ------------------------------------------------------------ concurrency

    @Test
    void shouldKeepEveryBlockIntactUnderConcurrentReadersAndWriters() throws Exception {
        int blocks = 512;
        Path path = dir.resolve("mixed");
        try (AioFileChannel channel = AioFileChannel.open(path, CREATE, READ, WRITE, ExtendedOpenOption.DIRECT);
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            // Each block holds its own number, a version and a CRC: a torn or misplaced write shows.
            ByteBuffer initial = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
            for (int b = 0; b < blocks; b++) {
                fillBlock(initial, b, 0);
                channel.write(initial, b * 4096L);
            }
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int writer = t;
                work.add(threads.submit(() -> {
                    ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
                    for (int i = 0; i < 200; i++) {
                        int b = (writer * 31 + i * 17) % blocks;
                        if ((i + writer) % 3 == 0) {
                            block.clear();
                            assertThat(channel.read(block, b * 4096L)).isEqualTo(4096);
                            verifyBlock(block, b);
                        } else {
                            fillBlock(block, b, writer * 1000 + i);
                            assertThat(channel.write(block, b * 4096L)).isEqualTo(4096);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get(60, TimeUnit.SECONDS);
            }
            ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
            for (int b = 0; b < blocks; b++) {
                block.clear();
                assertThat(channel.read(block, b * 4096L)).isEqualTo(4096);
                verifyBlock(block, b);
            }
        }
    }

    private static void fillBlock(ByteBuffer block, int number, int version) {
        block.clear();
        block.putLong(0, number).putLong(8, version);
        for (int i = 16; i < 4088; i++) {
            block.put(i, (byte) (number * 7 + version * 13 + i));
        }
        CRC32 crc = new CRC32();
        crc.update(block.slice(0, 4088));
        block.putLong(4088, crc.getValue());
    }

    private static void verifyBlock(ByteBuffer block, int number) {
        assertThat(block.getLong(0)).as("block number").isEqualTo(number);
        CRC32 crc = new CRC32();
        crc.update(block.slice(0, 4088));
        assertThat(block.getLong(4088)).as("CRC of block %d", number).isEqualTo(crc.getValue());
    }

    /** Each read is counted by id in its CompletionHandler, where a second delivery would show. */
    @Test
    void shouldCompleteOrFailEveryReadExactlyOnceWhenClosedDuringSubmissions() throws Exception {
        Path path = TestData.writeFile(dir.resolve("race"), 8 << 20, SEED);
        int perThread = 300;
        for (int round = 0; round < 5; round++) {
            AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                    ExtendedOpenOption.DIRECT);
            AtomicIntegerArray deliveries = new AtomicIntegerArray(4 * perThread);
            AtomicInteger delivered = new AtomicInteger();
            Set<Class<?>> failures = java.util.concurrent.ConcurrentHashMap.newKeySet();
            CompletionHandler<Integer, Integer> handler = new CompletionHandler<>() {
                @Override
                public void completed(Integer n, Integer request) {
                    deliveries.incrementAndGet(request);
                    delivered.incrementAndGet();
                }

                @Override
                public void failed(Throwable error, Integer request) {
                    failures.add(error.getClass());
                    deliveries.incrementAndGet(request);
                    delivered.incrementAndGet();
                }
            };
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int first = t * perThread;
                submitters.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
                        channel.read(block, (i % 2048) * 4096L, first + i, handler);
                    }
                }));
            }
            Thread.sleep(round);
            channel.close();
            for (Thread t : submitters) {
                t.join();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (delivered.get() < 4 * perThread && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(50); // room for a late second delivery to show
            for (int request = 0; request < 4 * perThread; request++) {
                assertThat(deliveries.get(request)).as("deliveries of read %d", request).isEqualTo(1);
            }
            assertThat(failures).isSubsetOf(Set.of(ClosedChannelException.class, AsynchronousCloseException.class));
        }
    }

    @Test
    void shouldWorkAsAPlainFileChannelForCodeWrittenAgainstTheInterface() throws IOException {
        Path path = TestData.writeFile(dir.resolve("plain"), 10_000, SEED);
        try (FileChannel channel = AioFileChannel.open(path, READ)) {
            ByteBuffer all = ByteBuffer.allocate(10_000);
            while (all.hasRemaining() && channel.read(all) > 0) {
                // read to the end, as ordinary code does
            }
            assertThat(all.position()).isEqualTo(10_000);
            assertThat(new HashSet<>(List.of(channel.read(ByteBuffer.allocate(1))))).containsExactly(-1);
        }
    }

    @Test
    void shouldRefuseABlockingCallFromAnEngineCallback() throws Exception {
        Path path = TestData.writeFile(dir.resolve("callback"), 1 << 16, SEED);
        try (AioEngine engine = AioEngine.open(); EventFd trigger = EventFd.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, ExtendedOpenOption.DIRECT), engine)) {
            ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).slice(0, 4096);
            CompletableFuture<Integer> chained = engine.poll(trigger, 1).thenApply(events -> {
                try {
                    return channel.read(block, 0); // on the engine thread: it would wait for itself
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            trigger.write(1);
            assertThatThrownBy(() -> chained.get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("would wait for that thread itself");
        }
    }

    @Test
    void shouldBounceAReadIntoAMisalignedBufferOfAConfinedArena() throws Exception {
        Path path = TestData.writeFile(dir.resolve("confined"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT);
             java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            ByteBuffer misaligned = confined.allocate(4096 + 64, 4096).asSlice(1, 4096).asByteBuffer();
            assertThat(channel.read(misaligned, 4096)).isEqualTo(4096); // copied back on this thread
            assertThat(misaligned.get(0)).isEqualTo(TestData.byteAt(4096, SEED));
        }
    }

    @Test
    void shouldRefuseAnAsynchronousBouncedReadIntoAConfinedBuffer() throws Exception {
        Path path = TestData.writeFile(dir.resolve("confined-async"), 1 << 16, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ,
                ExtendedOpenOption.DIRECT); java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            ByteBuffer misaligned = confined.allocate(4096 + 64, 4096).asSlice(1, 4096).asByteBuffer();
            assertThatThrownBy(() -> channel.readAsync(misaligned, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Buffer is thread confined");
        }
    }

    @Test
    void shouldRefuseAByteBufferWhoseArenaIsClosed() throws Exception {
        Path path = TestData.writeFile(dir.resolve("dead"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
            ByteBuffer dead = arena.allocate(4096, 4096).asByteBuffer();
            arena.close();
            assertThatThrownBy(() -> channel.read(dead, 0))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("arena is already closed");
            assertThat(channel.isOpen()).isTrue();
        }
    }

    @Test
    void shouldNotRecurseWithoutBoundWhenHandlersChainReadsOfACachedFile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("chain"), 8 << 20, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ)) {
            Files.readAllBytes(path); // cached: every read completes on the calling thread
            AtomicInteger maxDepth = new AtomicInteger();
            CompletableFuture<Long> done = new CompletableFuture<>();
            ByteBuffer buffer = ByteBuffer.allocateDirect(512);
            channel.read(buffer, 0, 0L, new CompletionHandler<Integer, Long>() {
                @Override
                public void completed(Integer n, Long position) {
                    maxDepth.accumulateAndGet(Thread.currentThread().getStackTrace().length, Math::max);
                    if (n < 0) {
                        done.complete(position);
                        return;
                    }
                    buffer.clear();
                    channel.read(buffer, position + n, position + n, this);
                }

                @Override
                public void failed(Throwable error, Long position) {
                    done.completeExceptionally(error);
                }
            });
            assertThat(done.get(60, TimeUnit.SECONDS)).isEqualTo(8L << 20);
            assertThat(maxDepth.get()).as("deepest stack in a handler").isLessThan(500);
        }
    }

    @Test
    void shouldCloseWhenAnInterruptClosesTheDelegateDuringAMetadataCall() throws Exception {
        Path path = TestData.writeFile(dir.resolve("interrupt"), 1 << 16, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            Thread.currentThread().interrupt();
            try {
                assertThatThrownBy(channel::size).isInstanceOf(java.nio.channels.ClosedByInterruptException.class);
            } finally {
                Thread.interrupted();
            }
            assertThat(channel.isOpen()).isFalse();
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(10), 0))
                    .isInstanceOf(ClosedChannelException.class);
        }
    }

    @Test
    void shouldOpenAPanaioChannelWithASetOfOptionsAndApplyFileAttributes() throws Exception {
        Path path = dir.resolve("attrs");
        var permissions = java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----");
        try (FileChannel channel = AioFileChannel.open(path, Set.of(CREATE, WRITE),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(permissions))) {
            // The JDK's static FileChannel.open(Path, Set, FileAttribute...) is hidden, not inherited.
            assertThat(channel).isInstanceOf(AioFileChannel.class);
        }
        assertThat(Files.getPosixFilePermissions(path)).isEqualTo(permissions);
        try (var async = AioAsynchronousFileChannel.open(path, Set.of(READ), null)) {
            assertThat(async).isInstanceOf(AioAsynchronousFileChannel.class);
        }
    }

    @Test
    void shouldLetACompletionHandlerWaitForAFutureOfTheSameChannel() throws Exception {
        Path path = TestData.writeFile(dir.resolve("nested"), 8192, SEED);
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, READ, WRITE)) {
            CompletableFuture<Integer> inner = new CompletableFuture<>();
            // A buffered write completes on the calling thread; so does the one its handler waits for.
            channel.write(ByteBuffer.wrap(new byte[10]), 0, null, new CompletionHandler<Integer, Void>() {
                @Override
                public void completed(Integer n, Void attachment) {
                    try {
                        inner.complete(channel.write(ByteBuffer.wrap(new byte[10]), 100).get(10, TimeUnit.SECONDS));
                    } catch (Exception e) {
                        inner.completeExceptionally(e);
                    }
                }

                @Override
                public void failed(Throwable error, Void attachment) {
                    inner.completeExceptionally(error);
                }
            });
            assertThat(inner.get(20, TimeUnit.SECONDS)).isEqualTo(10);
        }
    }

    @Test
    void shouldTakeDefaultHandlerThreadsFromTheJdksThreadFactoryPropertyAsTheJdkDoes() throws Exception {
        Path path = TestData.writeFile(dir.resolve("factory"), 4096, SEED);
        ChildJvm.Outcome run = ChildJvm.onClassPath(HandlerThreadFactoryProbe.class,
                List.of("--enable-native-access=ALL-UNNAMED", "-D" + "java.nio.channels.DefaultThreadPool.threadFactory="
                        + HandlerThreadFactoryProbe.Factory.class.getName()), path.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.value("jdk")).as("the JDK's channel, which shows the probe works").isEqualTo("true");
        assertThat(run.value("panaio")).as(run.toString()).isEqualTo("true");
    }

    /**
     * A thread factory that throws (named by the JDK's property, as the
     * default pool takes it) loses no handler call: every batch the pool
     * could not make a thread for runs where it was handed over, and every
     * chain that could not be handed on goes back to the thread that had it.
     * (The JDK's channel throws the factory's exception out of the read call,
     * and its handler is never called.)
     */
    @Test
    void shouldCallEveryHandlerWhenTheDefaultPoolsThreadFactoryThrows() throws Exception {
        Path path = TestData.writeFile(dir.resolve("flaky-factory"), 4096, SEED); // just written: cached
        ChildJvm.Outcome run = ChildJvm.onClassPath(FailingThreadFactoryProbe.class,
                List.of("--enable-native-access=ALL-UNNAMED", "-D" + "java.nio.channels.DefaultThreadPool.threadFactory="
                        + FailingThreadFactoryProbe.Factory.class.getName()), path.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(Integer.parseInt(run.value("refused"))).as("threads the factory refused: the probe works")
                .isPositive();
        assertThat(run.value("done")).as(run.toString()).isEqualTo("true");
        assertThat(run.value("handled")).as(run.toString()).isEqualTo(run.value("expected"));
        // The JDK's channel on the same factory: a read that got no thread throws, and its handler never runs.
        int jdkThrew = Integer.parseInt(run.value("jdkThrew"));
        assertThat(jdkThrew).as(run.toString()).isPositive();
        assertThat(Integer.parseInt(run.value("jdkHandled"))).as(run.toString()).isEqualTo(3 - jdkThrew);
    }

    @Test
    void shouldRefusePathsOfAnotherFileSystem() throws Exception {
        Path zip = dir.resolve("a.zip");
        try (java.nio.file.FileSystem zipfs = java.nio.file.FileSystems.newFileSystem(zip,
                java.util.Map.of("create", "true"))) {
            Path inside = zipfs.getPath("/inside");
            assertThatThrownBy(() -> AioFileChannel.open(inside, READ))
                    .isInstanceOf(java.nio.file.ProviderMismatchException.class);
            assertThatThrownBy(() -> AioAsynchronousFileChannel.open(inside, READ))
                    .isInstanceOf(java.nio.file.ProviderMismatchException.class);
        }
    }

    @Test
    void shouldTransferToAndFromADirectChannelAtAnyPosition() throws Exception {
        Path source = TestData.writeFile(dir.resolve("direct-source"), 100_000, SEED);
        Path copy = dir.resolve("copy");
        try (AioFileChannel direct = AioFileChannel.open(source, Set.of(READ, ExtendedOpenOption.DIRECT));
             FileChannel target = FileChannel.open(copy, CREATE, WRITE)) {
            assertThat(direct.transferTo(3, 70_001, target)).isEqualTo(70_001);
        }
        byte[] bytes = Files.readAllBytes(copy);
        for (int i = 0; i < bytes.length; i += 101) {
            assertThat(bytes[i]).isEqualTo(TestData.byteAt(3 + i, SEED));
        }
    }

    @Test
    void shouldGiveBackTheDescriptorsOfAsynchronousChannelsDroppedWithoutClose() throws Exception {
        Path path = TestData.writeFile(dir.resolve("dropped"), 100, SEED);
        int before = dev.panaio.testing.OpenDescriptors.on(path);
        dropAsynchronousChannels(path, 50);
        int after = dev.panaio.testing.OpenDescriptors.awaitOn(path, n -> n <= before, true, 10_000);
        assertThat(after).as("descriptors 10 s after dropping 50 channels, gc run").isEqualTo(before);
    }

    private static void dropAsynchronousChannels(Path path, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            AioAsynchronousFileChannel dropped = AioAsynchronousFileChannel.open(path, READ);
            assertThat(dropped.read(ByteBuffer.allocate(10), 0).get(10, TimeUnit.SECONDS)).isEqualTo(10);
        }
    }
}
