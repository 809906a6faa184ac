package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.panaio.Completions.awaitAll;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AioContextTest {
    private static final int SEED = 7;

    @TempDir
    Path dir;

    /** A shared arena per test, closed after it. */
    @AutoClose
    private final Arena arena = Arena.ofShared();

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
    void shouldNotKeepTheMemoryOfAReadsArenaOnceTheReadIsReaped() throws Exception {
        // An automatic arena's memory is freed once its segments are unreachable: a context that kept the scope of
        // the last segment it classified would keep that memory for as long as no other scope came along.
        Path path = TestData.writeFile(dir.resolve("auto"), 4096, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ)) {
            java.lang.ref.WeakReference<MemorySegment.Scope> scope = readIntoAutoMemory(aio, file);
            for (int i = 0; i < 100 && !scope.refersTo(null); i++) {
                System.gc();
                Thread.sleep(10);
            }
            assertThat(scope.refersTo(null)).as("the automatic arena collected while the context is open").isTrue();
        }
    }

    private static java.lang.ref.WeakReference<MemorySegment.Scope> readIntoAutoMemory(AioContext aio, AioFile file)
            throws IOException {
        MemorySegment dst = Arena.ofAuto().allocate(4096, 4096);
        aio.prepareRead(file, dst, 0, 1);
        aio.submit();
        assertThat(awaitAll(aio).only(1)).isEqualTo(4096);
        assertThat(TestData.firstMismatch(dst, 0, SEED)).isEqualTo(-1);
        return new java.lang.ref.WeakReference<>(dst.scope());
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
}
