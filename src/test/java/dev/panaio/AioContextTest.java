package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.ProcessResources;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AioContextTest {
    private static final int SEED = 7;

    @TempDir
    Path dir;

    private Arena arena;

    @BeforeEach
    void openArena() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void closeArena() {
        arena.close();
    }

    /** Collects completions as tag -> results, so tests can see duplicates. */
    private static final class Completions implements CompletionConsumer {
        final Map<Long, List<Long>> byTag = new HashMap<>();
        int count;

        @Override
        public void onCompletion(long tag, long result) {
            byTag.computeIfAbsent(tag, t -> new ArrayList<>()).add(result);
            count++;
        }

        long only(long tag) {
            assertThat(byTag.get(tag)).as("completions of tag %d", tag).hasSize(1);
            return byTag.get(tag).get(0);
        }
    }

    private static Completions awaitAll(AioContext aio) {
        Completions done = new Completions();
        while (aio.inFlight() > 0) {
            aio.await(1, 10, TimeUnit.SECONDS, done);
        }
        return done;
    }

    @Test
    void shouldExposeTheRealRingSizeWhichIsLargerThanTheCapacity() throws IOException {
        try (AioContext small = AioContext.open(1); AioContext large = AioContext.open(1024)) {
            assertThat(small.capacity()).isEqualTo(1);
            assertThat(small.ringSize()).as("1 to 32 give 127 slots with 4 KiB pages").isGreaterThan(1);
            assertThat(large.capacity()).isEqualTo(1024);
            assertThat(large.ringSize()).isGreaterThan(1024);
            assertThat(small.reapsFromRing()).isTrue();
        }
    }

    @Test
    void shouldRefuseToPrepareMoreThanItsCapacity() throws IOException {
        Path path = TestData.writeFile(dir.resolve("cap"), 4096, SEED);
        try (AioContext aio = AioContext.open(2); AioFile file = AioFile.open(path, READ)) {
            aio.prepareRead(file, arena.allocate(10), 0, 1);
            aio.prepareRead(file, arena.allocate(10), 0, 2);
            assertThatThrownBy(() -> aio.prepareRead(file, arena.allocate(10), 0, 3))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("all 2 request slots are in use (2 prepared, 0 in flight)");
            aio.submit();
            assertThat(awaitAll(aio).count).isEqualTo(2);
        }
    }

    @Test
    void shouldRoundTripPwriteThenPread() throws IOException {
        Path path = dir.resolve("rw");
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, CREATE, READ, WRITE)) {
            MemorySegment src = arena.allocate(10_000);
            TestData.fill(src, 5000, SEED);
            aio.prepareWrite(file, src, 5000, 1);
            assertThat(aio.submit()).isEqualTo(1);
            assertThat(awaitAll(aio).only(1)).isEqualTo(10_000);

            MemorySegment dst = arena.allocate(10_000);
            aio.prepareRead(file, dst, 5000, 2);
            aio.submit();
            assertThat(awaitAll(aio).only(2)).isEqualTo(10_000);
            assertThat(TestData.firstMismatch(dst, 5000, SEED)).isEqualTo(-1);
            assertThat(file.size()).isEqualTo(15_000);
        }
    }

    @Test
    void shouldRoundTripVectoredWriteAndRead() throws IOException {
        Path path = dir.resolve("vectored");
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, CREATE, READ, WRITE)) {
            MemorySegment[] srcs = {arena.allocate(100), arena.allocate(4096), arena.allocate(1)};
            long position = 0;
            for (MemorySegment src : srcs) {
                TestData.fill(src, position, SEED);
                position += src.byteSize();
            }
            aio.prepareWriteVectored(file, srcs, 0, 1, RequestOptions.NONE);
            aio.submit();
            assertThat(awaitAll(aio).only(1)).isEqualTo(4197);

            MemorySegment[] dsts = {arena.allocate(3000), arena.allocate(1197)};
            aio.prepareReadVectored(file, dsts, 0, 2, RequestOptions.NONE);
            aio.submit();
            assertThat(awaitAll(aio).only(2)).isEqualTo(4197);
            assertThat(TestData.firstMismatch(dsts[0], 0, SEED)).isEqualTo(-1);
            assertThat(TestData.firstMismatch(dsts[1], 3000, SEED)).isEqualTo(-1);
        }
    }

    @Test
    void shouldRoundTripAlignedDirectIo() throws IOException {
        Path path = TestData.writeFile(dir.resolve("direct"), 1 << 20, SEED);
        try (AioContext aio = AioContext.open(64);
             AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            DirectAlignment rules = file.alignment();
            assertThat(rules.source()).isEqualTo(DirectAlignment.Source.STATX);
            assertThat(file.isDirect()).isTrue();
            MemorySegment buffers = arena.allocate(64 * 4096L, 4096);
            for (int i = 0; i < 64; i++) {
                aio.prepareRead(file, buffers.asSlice(i * 4096L, 4096), i * 16384L, i);
            }
            assertThat(aio.submit()).isEqualTo(64);
            Completions done = awaitAll(aio);
            for (int i = 0; i < 64; i++) {
                assertThat(done.only(i)).isEqualTo(4096);
                assertThat(TestData.firstMismatch(buffers.asSlice(i * 4096L, 4096), i * 16384L, SEED)).isEqualTo(-1);
            }

            MemorySegment block = arena.allocate(rules.offset(), rules.memory());
            TestData.fill(block, 0, SEED + 1);
            aio.prepareWrite(file, block, 0, 99);
            aio.submit();
            assertThat(awaitAll(aio).only(99)).isEqualTo(rules.offset());
            byte[] onDisk = Files.readAllBytes(path);
            assertThat(onDisk[0]).isEqualTo(TestData.byteAt(0, SEED + 1));
        }
    }

    @Test
    void shouldReturnShortCountsAtEndOfFileAndZeroPastIt() throws IOException {
        Path path = TestData.writeFile(dir.resolve("short"), 300, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            MemorySegment straddling = arena.allocate(4096);
            MemorySegment past = arena.allocate(100);
            aio.prepareRead(file, straddling, 100, 1);
            aio.prepareRead(file, past, 1000, 2);
            aio.submit();
            Completions done = awaitAll(aio);
            assertThat(done.only(1)).isEqualTo(200);
            assertThat(done.only(2)).isZero();
            assertThat(TestData.firstMismatch(straddling.asSlice(0, 200), 100, SEED)).isEqualTo(-1);
        }
    }

    @Test
    void shouldReadASubBlockFileWithDirectIo() throws IOException {
        Path path = TestData.writeFile(dir.resolve("tiny"), 300, SEED);
        try (AioContext aio = AioContext.open(8);
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            MemorySegment dst = arena.allocate(4096, 4096);
            aio.prepareRead(file, dst, 0, 1);
            aio.submit();
            assertThat(awaitAll(aio).only(1)).isEqualTo(300);
            assertThat(TestData.firstMismatch(dst.asSlice(0, 300), 0, SEED)).isEqualTo(-1);
        }
    }

    @Test
    void shouldCompleteZeroLengthReadsAndWrites() throws IOException {
        Path path = TestData.writeFile(dir.resolve("zero"), 100, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ, WRITE)) {
            aio.prepareRead(file, arena.allocate(0), 10, 1);
            aio.prepareWrite(file, arena.allocate(0), 10, 2);
            aio.submit();
            Completions done = awaitAll(aio);
            assertThat(done.only(1)).isZero();
            assertThat(done.only(2)).isZero();
            assertThat(Files.size(path)).isEqualTo(100);
        }
    }

    @Test
    void shouldReadIntoAndWriteFromDirectByteBuffers() throws IOException {
        Path path = dir.resolve("bb");
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, CREATE, READ, WRITE)) {
            ByteBuffer src = ByteBuffer.allocateDirect(64);
            for (int i = 0; i < 64; i++) {
                src.put(i, TestData.byteAt(i, SEED));
            }
            src.position(16); // only the remaining 48 bytes are written
            aio.prepareWrite(file, src, 0, 1);
            aio.submit();
            assertThat(awaitAll(aio).only(1)).isEqualTo(48);
            assertThat(src.position()).isEqualTo(16);

            ByteBuffer dst = ByteBuffer.allocateDirect(48);
            aio.prepareRead(file, dst, 0, 2);
            aio.submit();
            assertThat(awaitAll(aio).only(2)).isEqualTo(48);
            assertThat(dst.get(0)).isEqualTo(TestData.byteAt(16, SEED));
        }
    }

    @Test
    void shouldCompleteFsyncAndFdatasync() throws IOException {
        Path path = TestData.writeFile(dir.resolve("sync"), 4096, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ, WRITE)) {
            aio.prepareFsync(file, 1);
            aio.prepareFdatasync(file, 2);
            aio.submit();
            Completions done = awaitAll(aio);
            assertThat(done.only(1)).isZero();
            assertThat(done.only(2)).isZero();
        }
    }

    @Test
    void shouldRejectRwFlagsOnFsyncInJava() throws IOException {
        Path path = TestData.writeFile(dir.resolve("syncflags"), 10, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ, WRITE)) {
            assertThatThrownBy(() -> aio.prepareFsync(file, 1, RequestOptions.NONE.withFlags(RwFlag.DSYNC)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("fsync and fdatasync take no rw flags");
            assertThat(aio.prepared()).isZero();
        }
    }

    @Test
    void shouldPollAnEventFdAndSignalCompletionsThroughOne() throws IOException {
        Path path = TestData.writeFile(dir.resolve("notify"), 4096, SEED);
        try (AioContext aio = AioContext.open(8); EventFd ready = EventFd.open(); EventFd completions = EventFd.open();
             AioFile file = AioFile.open(path, READ)) {
            int pollin = 1;
            aio.preparePoll(ready, pollin, 1);
            aio.submit();
            assertThat(aio.reap(new Completions())).as("nothing is ready yet").isZero();
            ready.write(1);
            assertThat(awaitAll(aio).only(1) & pollin).isEqualTo(pollin);

            RequestOptions signal = RequestOptions.NONE.withNotify(completions);
            for (int i = 0; i < 3; i++) {
                aio.prepareRead(file, arena.allocate(100), i * 100L, 10 + i, signal);
            }
            aio.submit();
            assertThat(awaitAll(aio).count).isEqualTo(3);
            assertThat(completions.read()).isEqualTo(3);
        }
    }

    @Test
    void shouldCancelAPendingPoll() throws IOException {
        try (AioContext aio = AioContext.open(8); EventFd never = EventFd.open()) {
            aio.preparePoll(never, 1, 42);
            aio.submit();
            assertThat(aio.cancel(42)).isTrue();
            Completions done = awaitAll(aio);
            assertThat(done.byTag.get(42L)).hasSize(1);
            assertThat(aio.cancel(42)).as("nothing left to cancel").isFalse();
        }
    }

    @Test
    void shouldNotCancelFileReadsInFlight() throws IOException {
        Path path = TestData.writeFile(dir.resolve("nocancel"), 4096, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            aio.prepareRead(file, arena.allocate(4096), 0, 5);
            aio.submit();
            assertThat(aio.cancel(5)).isFalse();
            assertThat(awaitAll(aio).only(5)).isEqualTo(4096);
        }
    }

    @Test
    void shouldDeliverEveryCompletionExactlyOnceOverTenTimesTheRing() throws IOException {
        Path path = TestData.writeFile(dir.resolve("many"), 1 << 20, SEED);
        try (AioContext aio = AioContext.open(16); AioFile file = AioFile.open(path, READ)) {
            int total = aio.ringSize() * 10 + 7; // the ring's head wraps around ten times
            MemorySegment buffer = arena.allocate(512L * aio.capacity());
            Completions done = new Completions();
            int submitted = 0;
            while (done.count < total) {
                while (submitted < total && aio.prepared() + aio.inFlight() < aio.capacity()) {
                    int slot = submitted % aio.capacity();
                    aio.prepareRead(file, buffer.asSlice(slot * 512L, 512), (submitted % 2048) * 512L, submitted);
                    submitted++;
                }
                aio.submit();
                aio.await(1, 10, TimeUnit.SECONDS, done);
            }
            assertThat(done.count).isEqualTo(total);
            assertThat(done.byTag).hasSize(total);
            done.byTag.forEach((tag, results) -> assertThat(results).containsExactly(512L));
        }
    }

    @Test
    void shouldSubmitAFullCapacityBatchWhileEarlierCompletionsAreStillUnreaped() throws IOException {
        Path path = TestData.writeFile(dir.resolve("full"), 1 << 20, SEED);
        try (AioContext aio = AioContext.open(64); AioFile file = AioFile.open(path, READ)) {
            // Buffered reads complete inside io_submit: their events sit in the ring until reaped.
            MemorySegment buffer = arena.allocate(512L * 64);
            Completions done = new Completions();
            int submitted = 0;
            for (int round = 0; round < 20; round++) {
                for (int i = 0; i < aio.capacity() - aio.inFlight(); i++) {
                    long tag = round * 1000L + i;
                    aio.prepareRead(file, buffer.asSlice(i * 512L, 512), i * 512L, tag);
                }
                submitted += aio.submit();
                aio.reap(32, done); // reap only half: the rest stays in the ring across the next submit
            }
            while (aio.inFlight() > 0) {
                aio.await(1, 10, TimeUnit.SECONDS, done);
            }
            assertThat(submitted).as("requests submitted over 20 rounds").isGreaterThanOrEqualTo(64 * 10);
            assertThat(done.count).isEqualTo(submitted).isEqualTo(done.byTag.size());
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldNameTheRejectedRequestAndHandBackTheRest() throws IOException {
        Path path = TestData.writeFile(dir.resolve("batch"), 1 << 16, SEED);
        Path directory = Files.createDirectory(dir.resolve("a-directory"));
        try (AioContext aio = AioContext.open(16); AioFile file = AioFile.open(path, READ);
             AioFile notReadable = AioFile.open(directory, READ)) {
            for (int i = 0; i < 8; i++) {
                // Request 3 reads a directory: io_submit rejects it with EINVAL (no read_iter).
                aio.prepareRead(i == 3 ? notReadable : file, arena.allocate(512), i * 512L, 100 + i);
            }
            assertThatThrownBy(aio::submit)
                    .isInstanceOfSatisfying(SubmitException.class, e -> {
                        assertThat(e.failedIndex()).isEqualTo(3);
                        assertThat(e.accepted()).isEqualTo(3);
                        assertThat(e.failedTag()).isEqualTo(103);
                        assertThat(e.unsubmittedTags()).containsExactly(104, 105, 106, 107);
                        assertThat(e.errnoName()).isEqualTo("EINVAL");
                        assertThat(e.call()).isEqualTo("io_submit");
                    })
                    .hasMessageContaining("rejected request 3 of a batch of 8 (tag 103, PREAD")
                    .hasMessageContaining("EINVAL (Invalid argument)");
            assertThat(aio.prepared()).isZero();
            Completions done = awaitAll(aio);
            assertThat(done.byTag.keySet()).containsExactlyInAnyOrder(100L, 101L, 102L);
            assertThat(done.only(100)).isEqualTo(512);
            // The handed-back requests' slots are free again: the whole capacity can be prepared.
            for (int i = 0; i < aio.capacity(); i++) {
                aio.prepareRead(file, arena.allocate(1), 0, i);
            }
            assertThat(aio.submit()).isEqualTo(aio.capacity());
            assertThat(awaitAll(aio).count).isEqualTo(aio.capacity());
        }
    }

    @Test
    void shouldReapTheSameFromTheRingAsFromIoGetevents() throws IOException {
        Path path = TestData.writeFile(dir.resolve("same"), 1 << 18, SEED);
        Map<Long, List<Long>> fromRing;
        Map<Long, List<Long>> fromSyscall;
        try (AioContext ring = AioContext.open(32); AioContext syscall = AioContext.open(32, false);
             AioFile file = AioFile.open(path, READ)) {
            assertThat(ring.reapsFromRing()).isTrue();
            assertThat(syscall.reapsFromRing()).isFalse();
            fromRing = workload(ring, file);
            fromSyscall = workload(syscall, file);
        }
        assertThat(fromRing).hasSize(200).isEqualTo(fromSyscall);
    }

    private Map<Long, List<Long>> workload(AioContext aio, AioFile file) throws IOException {
        MemorySegment buffer = arena.allocate(1000L * 32);
        Completions done = new Completions();
        for (int round = 0; round < 10; round++) {
            for (int i = 0; i < 20; i++) {
                long tag = round * 20L + i;
                // Lengths and positions vary, some reads straddle or pass end of file.
                aio.prepareRead(file, buffer.asSlice(i * 1000L, 1 + tag * 5 % 1000), tag * 1400, tag);
            }
            aio.submit();
            while (aio.inFlight() > 0) {
                if (aio.reap(done) == 0) {
                    aio.await(1, 10, TimeUnit.SECONDS, done);
                }
            }
        }
        return done.byTag;
    }

    @Test
    void shouldRejectBadBuffersInJavaBeforeTheKernelSeesThem() throws IOException {
        Path path = TestData.writeFile(dir.resolve("bad"), 4096, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            assertThatThrownBy(() -> aio.prepareRead(file, MemorySegment.ofArray(new byte[10]), 0, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("native memory");
            assertThatThrownBy(() -> aio.prepareRead(file, arena.allocate(10).asReadOnly(), 0, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("read-only");
            assertThatThrownBy(() -> aio.prepareRead(file, ByteBuffer.allocate(10), 0, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("direct ByteBuffer");
            assertThatThrownBy(() -> aio.prepareRead(file, arena.allocate(10), -1, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be negative");
            assertThatThrownBy(() -> aio.prepareRead(file, arena.allocate(10), Long.MAX_VALUE - 5, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overflows");
            assertThatThrownBy(() -> aio.prepareWrite(file, arena.allocate(10), 0, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not opened for writing");
            MemorySegment dead;
            try (Arena closed = Arena.ofConfined()) {
                dead = closed.allocate(10);
            }
            MemorySegment released = dead;
            assertThatThrownBy(() -> aio.prepareRead(file, released, 0, 1))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("arena is already closed");
            assertThatThrownBy(() -> aio.preparePoll(file, 0x10000, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16 bits");
            assertThatThrownBy(() -> aio.prepareReadVectored(file, new MemorySegment[0], 0, 1, RequestOptions.NONE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("UIO_MAXIOV");
            assertThat(aio.prepared()).as("no rejected request holds a slot").isZero();
        }
    }

    @Test
    void shouldRejectMisalignedDirectIoNamingTheAlignment() throws IOException {
        Path path = TestData.writeFile(dir.resolve("misaligned"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8);
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            long align = file.alignment().offset();
            long memoryAlign = file.alignment().memory();
            MemorySegment aligned = arena.allocate(4 * align, 4096);
            assertThatThrownBy(() -> aio.prepareRead(file, aligned.asSlice(1, align), 0, 1))
                    .isInstanceOfSatisfying(MisalignedIoException.class,
                            e -> assertThat(e.requiredAlignment()).isEqualTo(memoryAlign))
                    .hasMessageContaining("buffer address to be a multiple of " + memoryAlign);
            assertThatThrownBy(() -> aio.prepareRead(file, aligned.asSlice(0, align), 1, 1))
                    .isInstanceOf(MisalignedIoException.class)
                    .hasMessageContaining("file position to be a multiple of " + align);
            assertThatThrownBy(() -> aio.prepareRead(file, aligned.asSlice(0, align + 1), 0, 1))
                    .isInstanceOf(MisalignedIoException.class)
                    .hasMessageContaining("length to be a multiple of " + align);
            assertThat(aio.prepared()).isZero();
        }
    }

    @Test
    void shouldRejectNegativeTimeoutsAndImpossibleMinimums() throws IOException {
        try (AioContext aio = AioContext.open(8)) {
            Completions done = new Completions();
            assertThatThrownBy(() -> aio.await(1, -1, TimeUnit.SECONDS, done))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be negative");
            assertThatThrownBy(() -> aio.await(1, 1, TimeUnit.SECONDS, done))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("between 1 and the 0 requests in flight");
        }
    }

    @Test
    void shouldRefuseCapacitiesOutOfRange() {
        assertThatThrownBy(() -> AioContext.open(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity must be between 1 and");
        assertThatThrownBy(() -> AioContext.open(-5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AioContext.open(Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldRejectUseAfterCloseAndCloseIdempotently() throws IOException {
        AioContext aio = AioContext.open(8);
        aio.close();
        aio.close();
        assertThat(aio.isClosed()).isTrue();
        assertThatThrownBy(aio::submit).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> aio.reap((t, r) -> { })).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldRefuseUseFromTwoThreadsAtOnce() throws Exception {
        try (AioContext aio = AioContext.open(8); EventFd never = EventFd.open()) {
            aio.preparePoll(never, 1, 1);
            aio.submit();
            CountDownLatch inHandler = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            never.write(1);
            Thread reaper = Thread.ofPlatform().start(() -> aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> {
                inHandler.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertThat(inHandler.await(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> aio.reap((t, r) -> { })).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("in use by another thread");
            release.countDown();
            reaper.join();
        }
    }

    @Test
    void shouldWakeAWaiterWhenClosedFromAnotherThread() throws Exception {
        AioContext aio = AioContext.open(8);
        try (EventFd never = EventFd.open()) {
            aio.preparePoll(never, 1, 1);
            aio.submit();
            AtomicReference<Object> outcome = new AtomicReference<>();
            Map<Long, Long> delivered = new java.util.concurrent.ConcurrentHashMap<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    outcome.set(aio.await(1, delivered::put));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            // The close must land while the waiter is inside io_getevents, not before it gets there.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!inIoGetevents(waiter) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(inIoGetevents(waiter)).as("waiter inside io_getevents").isTrue();
            // io_destroy cancels the pending poll, which completes it, and wakes io_getevents.
            aio.close();
            waiter.join(10_000);
            assertThat(waiter.isAlive()).isFalse();
            // Either the cancelled poll's completion was delivered, or nothing was and await says closed.
            if (outcome.get() instanceof Integer n) {
                assertThat(n).isEqualTo(1);
                assertThat(delivered).containsOnlyKeys(1L);
            } else {
                assertThat(outcome.get()).isInstanceOfSatisfying(IllegalStateException.class,
                        e -> assertThat(e).hasMessageContaining("closed"));
                assertThat(delivered).isEmpty();
            }
        }
    }

    private static boolean inIoGetevents(Thread thread) {
        return java.util.Arrays.stream(thread.getStackTrace())
                .anyMatch(frame -> frame.getMethodName().equals("io_getevents"));
    }

    @Test
    void shouldWaitForInFlightIoOnCloseAndGiveBackTheAioBudget() throws IOException {
        Path path = TestData.writeFile(dir.resolve("inflight"), 8 << 20, SEED);
        // fs.aio-nr is system-wide: a difference counts only while no other process opened or closed a context.
        ProcessResources beforeOpen = null;
        ProcessResources afterOpen = null;
        AioContext aio = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            if (aio != null) {
                aio.close();
            }
            beforeOpen = ProcessResources.now();
            aio = AioContext.open(256);
            afterOpen = ProcessResources.now();
            if (!afterOpen.otherProcessesChangedAioContexts(beforeOpen)) {
                break;
            }
        }
        assumeTrue(!afterOpen.otherProcessesChangedAioContexts(beforeOpen),
                "other processes kept opening and closing AIO contexts: " + beforeOpen.otherAioRings() + " -> "
                        + afterOpen.otherAioRings());
        // io_setup is asked for the capacity plus one event for the context's wake-up poll (AioLimitExceptionTest).
        assertThat(afterOpen.aioNr() - beforeOpen.aioNr()).as("fs.aio-nr charged for open(256)").isEqualTo(257);
        assertThat(afterOpen.aioRings()).isEqualTo(beforeOpen.aioRings() + 1);
        // AioArena memory is read into in place (a caller's shared arena would be bounced, and close() discards
        // what was not reaped).
        AioArena inPlace = AioArena.open();
        MemorySegment buffers = inPlace.allocate(256 * 4096L, 4096);
        try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
            for (int i = 0; i < 200; i++) {
                aio.prepareRead(file, buffers.asSlice(i * 4096L, 4096), i * 40960L, i);
            }
            aio.submit();
            aio.close();
        }
        ProcessResources afterClose = ProcessResources.now();
        // io_destroy returned only after every read finished: the buffers hold the file's bytes and stay so.
        byte[] snapshot = buffers.asSlice(0, 200 * 4096L).toArray(ValueLayout.JAVA_BYTE);
        for (int i = 0; i < 200; i++) {
            assertThat(TestData.firstMismatch(buffers.asSlice(i * 4096L, 4096), i * 40960L, SEED)).isEqualTo(-1);
        }
        assertThat(buffers.asSlice(0, 200 * 4096L).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(snapshot);
        assertThat(afterClose.aioRings()).as("this process's AIO rings").isEqualTo(beforeOpen.aioRings());
        if (!afterClose.otherProcessesChangedAioContexts(afterOpen)) {
            assertThat(afterOpen.aioNr() - afterClose.aioNr()).as("fs.aio-nr given back by close()").isEqualTo(257);
        }
        assertThat(inPlace.inFlight()).isZero();
        inPlace.close();
    }

    @Test
    void shouldLetACompletionHandlerSubmitMoreWork() throws IOException {
        Path path = TestData.writeFile(dir.resolve("chain"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            MemorySegment buffer = arena.allocate(512);
            aio.prepareRead(file, buffer, 0, 0);
            aio.submit();
            int[] completed = {0};
            CompletionConsumer chain = new CompletionConsumer() {
                @Override
                public void onCompletion(long tag, long result) {
                    completed[0]++;
                    if (tag < 9) {
                        try {
                            aio.prepareRead(file, buffer, (tag + 1) * 512, tag + 1);
                            aio.submit();
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                }
            };
            while (aio.inFlight() > 0) {
                aio.await(1, 10, TimeUnit.SECONDS, chain);
            }
            assertThat(completed[0]).isEqualTo(10);
        }
    }

    @Test
    void shouldKeepCompletionsQueuedWhenAHandlerThrows() throws IOException {
        Path path = TestData.writeFile(dir.resolve("throws"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 4; i++) {
                aio.prepareRead(file, arena.allocate(512), i * 512L, i);
            }
            aio.submit();
            List<Long> seen = new ArrayList<>();
            while (seen.size() < 4) {
                try {
                    aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> {
                        seen.add(tag);
                        if (seen.size() == 2) {
                            throw new IllegalStateException("handler failure");
                        }
                    });
                } catch (IllegalStateException e) {
                    assertThat(e).hasMessage("handler failure");
                }
            }
            assertThat(seen).containsExactlyInAnyOrder(0L, 1L, 2L, 3L);
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldDeliverEachCompletionOnceWhenAHandlerReapsTheSameContext() throws IOException {
        Path path = TestData.writeFile(dir.resolve("reentrant"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 4; i++) {
                aio.prepareRead(file, arena.allocate(512), i * 512L, i); // buffered: done inside io_submit
            }
            aio.submit();
            Completions seen = new Completions();
            CompletionConsumer outer = new CompletionConsumer() {
                boolean first = true;

                @Override
                public void onCompletion(long tag, long result) {
                    seen.onCompletion(tag, result);
                    if (first) {
                        first = false;
                        aio.reap(seen); // the owner may re-enter its context from a handler
                    }
                }
            };
            aio.reap(outer);
            assertThat(seen.count).isEqualTo(4);
            seen.byTag.forEach((tag, results) -> assertThat(results).hasSize(1));
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldDeliverEachCompletionOnceWhenAHandlerSubmitsMore() throws IOException {
        Path path = TestData.writeFile(dir.resolve("handler-submits"), 1 << 20, SEED);
        try (AioContext aio = AioContext.open(16); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 12; i++) {
                aio.prepareRead(file, arena.allocate(64), i * 64L, i);
            }
            aio.submit();
            Completions seen = new Completions();
            CompletionConsumer handler = new CompletionConsumer() {
                int next = 100;

                @Override
                public void onCompletion(long tag, long result) {
                    seen.onCompletion(tag, result);
                    if (next < 160) {
                        try {
                            for (int k = 0; k < 4 && aio.prepared() + aio.inFlight() < aio.capacity(); k++) {
                                aio.prepareRead(file, arena.allocate(64), 0, next++);
                            }
                            aio.submit(); // completes inside io_submit: the ring fills under the outer reap
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                }
            };
            while (aio.inFlight() > 0) {
                if (aio.reap(handler) == 0) {
                    aio.await(1, 10, TimeUnit.SECONDS, handler);
                }
            }
            assertThat(seen.byTag.values()).allSatisfy(results -> assertThat(results).hasSize(1));
            assertThat(seen.count).as("12 first reads and the 60 the handler added").isEqualTo(72)
                    .isEqualTo(seen.byTag.size());
        }
    }

    @Test
    void shouldKeepTheRestOfAnIoGeteventsBatchWhenAHandlerThrows() throws IOException {
        Path path = TestData.writeFile(dir.resolve("batch-throws"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8, false); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 4; i++) {
                aio.prepareRead(file, arena.allocate(512), i * 512L, i);
            }
            aio.submit();
            assertThatThrownBy(() -> aio.reap((tag, result) -> {
                throw new IllegalStateException("handler bug");
            })).hasMessage("handler bug");
            Completions rest = new Completions();
            aio.reap(rest);
            assertThat(rest.count).isEqualTo(3);
            assertThat(aio.inFlight()).isZero();
        }
    }

    @Test
    void shouldHonourMaxWhenReapingThroughIoGetevents() throws IOException {
        Path path = TestData.writeFile(dir.resolve("max"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8, false); AioFile file = AioFile.open(path, READ)) {
            for (int i = 0; i < 4; i++) {
                aio.prepareRead(file, arena.allocate(512), i * 512L, i);
            }
            aio.submit();
            assertThat(aio.reap(1, new Completions())).isEqualTo(1);
            assertThat(aio.inFlight()).isEqualTo(3);
        }
    }

    @Test
    void shouldSubmitAsManyPendingPollsAsItsCapacityWithoutBlocking() throws Exception {
        try (AioContext aio = AioContext.open(4); EventFd never = EventFd.open()) {
            for (int i = 0; i < aio.capacity(); i++) {
                aio.preparePoll(never, 1, i);
            }
            assertThat(aio.submit()).isEqualTo(4); // returns: the kernel always has room for the capacity
            never.write(1);
            assertThat(awaitAll(aio).count).isEqualTo(4);
        }
    }

    @Test
    void shouldRefuseAByteBufferWhoseArenaIsClosed() throws IOException {
        Path path = TestData.writeFile(dir.resolve("dead"), 1 << 16, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            Arena closed = Arena.ofShared();
            ByteBuffer dead = closed.allocate(4096, 4096).asByteBuffer();
            closed.close();
            assertThatThrownBy(() -> aio.prepareRead(file, dead, 0, 1))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("arena is already closed");
            assertThat(aio.prepared()).isZero();
        }
    }

    @Test
    void shouldReturnFromAnUnboundedAwaitForSeveralWhenClosed() throws Exception {
        AioContext aio = AioContext.open(4);
        try (EventFd a = EventFd.open(); EventFd b = EventFd.open()) {
            aio.preparePoll(a, 1, 1);
            aio.preparePoll(b, 1, 2);
            aio.submit();
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    aio.await(2, (tag, result) -> { }); // no timeout, more than one
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            Thread.sleep(100);
            Thread closer = Thread.ofPlatform().start(aio::close);
            closer.join(10_000);
            assertThat(closer.isAlive()).as("close() with a waiter in await(2)").isFalse();
            waiter.join(10_000);
            assertThat(waiter.isAlive()).isFalse();
            if (outcome.get() != null) {
                assertThat(outcome.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            }
        }
    }
}
