package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.TestData;
import dev.panaio.testing.ThreadIo;
import dev.panaio.testing.child.VirtualWriteCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where buffered and direct writes are made, so that none holds a caller that
 * was promised it would not be: the asynchronous channel's caller, a virtual
 * thread's carrier, an engine thread. The evidence is the kernel's per-thread
 * I/O accounting (which thread's write system calls carried the bytes), not
 * time.
 */
class NeverBlockingWritesTest {
    private static final int SEED = 23;

    @TempDir
    Path dir;

    /** ext4 refuses RWF_NOWAIT for buffered writes: there no write may be tried on the caller's thread at all. */
    private static void assumeExt4(Path path) throws Exception {
        String type = Files.getFileStore(path).type();
        assumeTrue(type.equals("ext4"), "the build directory is on " + type + ", not ext4 (where buffered writes "
                + "refuse RWF_NOWAIT, so the caller may make none)");
    }

    @Test
    void shouldMakeNoAsynchronousBufferedWriteOnTheCallersThread() throws Exception {
        assumeTrue(ThreadIo.available(), "no per-thread I/O accounting here");
        Path path = Files.createFile(dir.resolve("async"));
        assumeExt4(path);
        int writes = 64;
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, Set.of(READ, WRITE), null,
                     engine)) {
            List<ByteBuffer> sources = new ArrayList<>();
            for (int i = 0; i < writes; i++) {
                ByteBuffer src = i % 2 == 0 ? ByteBuffer.allocateDirect(4096) : ByteBuffer.allocate(4096);
                for (int k = 0; k < 4096; k++) {
                    src.put(k, TestData.byteAt(i * 4096L + k, SEED));
                }
                sources.add(src);
            }
            List<Future<Integer>> futures = new ArrayList<>();
            List<CompletableFuture<Integer>> handled = new ArrayList<>();
            long before = ThreadIo.bytesWrittenHere();
            for (int i = 0; i < writes; i++) {
                if (i % 4 == 3) {
                    CompletableFuture<Integer> result = new CompletableFuture<>();
                    handled.add(result);
                    channel.write(sources.get(i), i * 4096L, null, new CompletionHandler<Integer, Void>() {
                        @Override
                        public void completed(Integer n, Void attachment) {
                            result.complete(n);
                        }

                        @Override
                        public void failed(Throwable error, Void attachment) {
                            result.completeExceptionally(error);
                        }
                    });
                } else {
                    futures.add(channel.write(sources.get(i), i * 4096L));
                }
            }
            assertThat(ThreadIo.bytesWrittenHere() - before).as("bytes the caller's thread wrote").isZero();
            for (Future<Integer> result : futures) {
                assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(4096);
            }
            for (CompletableFuture<Integer> result : handled) {
                assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(4096);
            }
            assertThat(engine.stats().poolRuns()).as("writes handed to the pool").isEqualTo(writes);
        }
        assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)), 0, SEED)).isEqualTo(-1);
    }

    @Test
    void shouldDeliverEachHandlerOfWritesMadeOneAtATime() throws Exception {
        Path path = Files.createFile(dir.resolve("chain"));
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path, Set.of(READ, WRITE), null,
                     engine)) {
            // Each write starts only once the one before has been delivered: no batch of handlers ever fills up.
            for (int i = 0; i < 3; i++) {
                ByteBuffer src = ByteBuffer.allocateDirect(4096);
                TestData.fill(MemorySegment.ofBuffer(src), i * 4096L, SEED);
                CompletableFuture<Integer> result = new CompletableFuture<>();
                channel.write(src, i * 4096L, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer n, Void attachment) {
                        result.complete(n);
                    }

                    @Override
                    public void failed(Throwable error, Void attachment) {
                        result.completeExceptionally(error);
                    }
                });
                assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(4096);
            }
        }
        assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)), 0, SEED)).isEqualTo(-1);
    }

    @Test
    void shouldMakeNoBufferedWriteOfAVirtualThreadOnItsCarrier() throws Exception {
        assumeTrue(ThreadIo.available(), "no per-thread I/O accounting here");
        assumeExt4(dir);
        ChildJvm.Outcome run = ChildJvm.onClassPath(VirtualWriteCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED"), "aio", dir.resolve("vt").toString(), "64", "16");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        long[] seen = parse(run.stdout());
        assertThat(seen[2]).as("writes").isEqualTo(64 * 16);
        assertThat(seen[3]).as("blocks that read back wrong").isZero();
        assertThat(seen[0]).as("bytes the carriers wrote: " + run.stdout()).isZero();
        assertThat(seen[1]).as("bytes panaio's pool wrote: " + run.stdout()).isEqualTo(64 * 16 * 4096L);
    }

    @Test
    void shouldSeeTheJdkFileChannelWriteOnTheCarrierWhichShowsTheCheckWorks() throws Exception {
        assumeTrue(ThreadIo.available(), "no per-thread I/O accounting here");
        ChildJvm.Outcome run = ChildJvm.onClassPath(VirtualWriteCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED"), "jdk", dir.resolve("vt-jdk").toString(), "16", "8");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        long[] seen = parse(run.stdout());
        assertThat(seen[3]).isZero();
        assertThat(seen[0]).as("bytes the carriers wrote: " + run.stdout()).isEqualTo(16 * 8 * 4096L);
    }

    private static long[] parse(String stdout) {
        Matcher m = Pattern.compile("carrierBytes=(-?\\d+) blockingPoolBytes=(-?\\d+) writes=(\\d+) mismatches=(\\d+)")
                .matcher(stdout);
        assertThat(m.find()).as(stdout).isTrue();
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4))};
    }

    @Test
    void shouldHandAnExtendingGatheringDirectWriteToThePoolInsteadOfHoldingIoSubmit() throws Exception {
        Path path = Files.createFile(dir.resolve("gather"));
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ, WRITE, ExtendedOpenOption.DIRECT),
                     engine)) {
            ByteBuffer block = ByteBuffer.allocateDirect(3 * 4096).alignedSlice(4096);
            TestData.fill(MemorySegment.ofBuffer(block), 0, SEED);
            ByteBuffer[] halves = {block.slice(0, 4096), block.slice(4096, 4096)};
            // Extending the file needs a block allocation: with the RWF_NOWAIT the engine adds, ext4 answers EAGAIN
            // instead of blocking io_submit on the engine thread, and the write is made on the pool.
            assertThat(channel.write(halves)).isEqualTo(8192);
            assertThat(engine.stats().poolRuns()).as("writes handed to the pool").isEqualTo(1);
            // An overwrite of written blocks needs no allocation: the kernel takes it without blocking.
            ByteBuffer[] again = {block.slice(0, 4096), block.slice(4096, 4096)};
            channel.position(0);
            assertThat(channel.write(again, 0, 2)).isEqualTo(8192);
            assertThat(engine.stats().poolRuns()).as("writes handed to the pool").isEqualTo(1);
        }
        assertThat(Files.size(path)).isEqualTo(8192);
        assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)).asSlice(0, 8192), 0, SEED))
                .isEqualTo(-1);
    }
}
