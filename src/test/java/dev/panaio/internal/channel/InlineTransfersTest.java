package dev.panaio.internal.channel;

import dev.panaio.AioEngine;
import dev.panaio.testing.OnVirtualThread;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link InlineTransfers} answers, call by call, on a channel's own
 * {@link FileIo}: a count with the buffer advanced, -1 at the end of the file,
 * {@link InlineTransfers#MISSED} with the buffer where the caller must find it,
 * or {@link InlineTransfers#NOT_INLINE} with nothing done. The channels built
 * on it are tested in {@code PageCacheReadTest}.
 */
class InlineTransfersTest {
    private static final int SEED = 61;
    private static final int FILE_SIZE = 1 << 20;

    @TempDir
    Path dir;

    private static FileIo open(Path path, AioEngine engine) throws Exception {
        return FileIo.open(path, ChannelOptions.parse(Set.of(READ)), engine);
    }

    /** Reads until the file's reads stop asking the page cache, so that a partly cached range is read short. */
    static void warm(InlineTransfers inline) throws Exception {
        ByteBuffer page = ByteBuffer.allocateDirect(4096);
        for (int i = 0; i < 300; i++) {
            assertThat(inline.readAtOnce(page.clear(), (long) (i % 256) * 4096)).isEqualTo(4096);
        }
    }

    @Test
    void shouldAnswerACachedReadAndTheEndOfTheFileAtOnce() throws Exception {
        Path path = TestData.writeFile(dir.resolve("cached"), FILE_SIZE, SEED);
        Files.readAllBytes(path);
        try (AioEngine engine = AioEngine.open()) {
            FileIo io = open(path, engine);
            try {
                ByteBuffer dst = ByteBuffer.allocateDirect(8192);
                assertThat(io.inline().readAtOnce(dst, 4096)).isEqualTo(8192);
                assertThat(dst.position()).isEqualTo(8192);
                assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), 4096, SEED)).isEqualTo(-1);
                assertThat(io.inline().readAtOnce(dst.clear(), FILE_SIZE)).as("at the end").isEqualTo(-1);
                assertThat(dst.position()).isZero();
                assertThat(io.inline().readAtOnce(dst.clear(), 0L)).isEqualTo(8192);
                assertThat(io.inline().readAtOnce(ByteBuffer.allocateDirect(0), 0)).as("nothing to read")
                        .isEqualTo(InlineTransfers.NOT_INLINE);
            } finally {
                io.file().close();
            }
        }
    }

    /**
     * A range whose first pages alone are cached: {@code readAtOnce} (the
     * asynchronous channel's) leaves the buffer where it was, for the pool to
     * read the whole range; {@code readInline} on a virtual thread (the
     * blocking channel's) leaves it advanced by what it read, for the pool to
     * read the rest. A read the kernel's own readahead answers whole is tried
     * again ({@link PageCache#untilAMiss}).
     */
    @Test
    void shouldSayMissedAndLeaveTheBufferWhereEachCallerReadsOn() throws Exception {
        Path path = TestData.writeFile(dir.resolve("partly"), FILE_SIZE, SEED);
        Files.readAllBytes(path);
        try (AioEngine engine = AioEngine.open()) {
            FileIo io = open(path, engine);
            try {
                InlineTransfers inline = io.inline();
                warm(inline);
                ByteBuffer dst = ByteBuffer.allocateDirect(64 << 10);
                PageCache.untilAMiss(path, 16384, () -> {
                    MemorySegment.ofBuffer(dst.clear()).fill((byte) 0);
                    long answer = inline.readAtOnce(dst, 0);
                    if (answer == InlineTransfers.MISSED) {
                        assertThat(dst.position()).as("after readAtOnce's miss").isZero();
                        return true;
                    }
                    assertThat(answer).as("readAtOnce, the range cached after all").isEqualTo(64 << 10);
                    assertThat(dst.position()).isEqualTo(64 << 10);
                    assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), 0, SEED)).isEqualTo(-1);
                    return false;
                });
                PageCache.untilAMiss(path, 16384, () -> {
                    MemorySegment.ofBuffer(dst.clear()).fill((byte) 0);
                    long[] answer = new long[1];
                    OnVirtualThread.run(() -> answer[0] = inline.readInline(dst, 0));
                    if (answer[0] == InlineTransfers.MISSED) {
                        // At least the cached pages; more where the readahead brought some in time.
                        assertThat(dst.position()).as("after readInline's miss").isBetween(16384, (64 << 10) - 1);
                    } else {
                        assertThat(answer[0]).as("readInline, the range cached after all").isEqualTo(64 << 10);
                        assertThat(dst.position()).isEqualTo(64 << 10);
                    }
                    int read = dst.position();
                    assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(dst.flip()), 0, SEED))
                            .as("the %d bytes read", read).isEqualTo(-1);
                    return answer[0] == InlineTransfers.MISSED;
                });
            } finally {
                io.file().close();
            }
        }
    }

    /** A direct file is never read inline: kernel AIO takes it, through the general path. */
    @Test
    void shouldLeaveADirectFileToTheGeneralPath() throws Exception {
        Path path = TestData.writeFile(dir.resolve("direct"), FILE_SIZE, SEED);
        try (AioEngine engine = AioEngine.open()) {
            FileIo io = FileIo.open(path, ChannelOptions.parse(Set.of(READ,
                    com.sun.nio.file.ExtendedOpenOption.DIRECT)), engine);
            try {
                ByteBuffer dst = ByteBuffer.allocateDirect(8192).alignedSlice(4096).limit(4096);
                assertThat(io.inline().readAtOnce(dst, 0)).isEqualTo(InlineTransfers.NOT_INLINE);
                assertThat(io.inline().readInline(dst, 0)).isEqualTo(InlineTransfers.NOT_INLINE);
                assertThat(dst.position()).isZero();
            } finally {
                io.file().close();
            }
        }
    }

    /**
     * A read the kernel answers at once with an error (EBADF here: the
     * descriptor is write-only) was answered on the calling thread: a NOWAIT
     * attempt's is an inline hit, neither a miss nor a pool run, the same
     * count as {@link FileIo}'s own NOWAIT attempt gives it (which runs first,
     * beside), and its JFR event names the page cache; a platform thread's own
     * {@code pread} or {@code pwrite} is not counted, and its event names the
     * calling thread, as for those that succeed.
     */
    @Test
    void shouldCountAndRecordAnErrorAnsweredAtOnceAsTheGeneralPathDoes() throws Exception {
        Path path = TestData.writeFile(dir.resolve("write-only"), FILE_SIZE, SEED);
        Files.readAllBytes(path);
        Path out = dir.resolve("recording.jfr");
        try (AioEngine engine = AioEngine.open(); Recording recording = new Recording()) {
            FileIo io = FileIo.open(path, ChannelOptions.parse(Set.of(WRITE)), engine);
            FileIo readOnly = open(path, engine);
            try {
                recording.enable("dev.panaio.FileRead").withThreshold(Duration.ZERO);
                recording.enable("dev.panaio.FileWrite").withThreshold(Duration.ZERO);
                recording.start();
                ByteBuffer dst = ByteBuffer.allocateDirect(4096);
                var general = new ChannelCompletion.ToWaiter();
                io.read(dst, 0, general);
                assertThatThrownBy(general::await).isInstanceOf(IOException.class).hasMessageContaining("EBADF");
                assertThat(engine.stats().inlineHits()).as("the general path's NOWAIT error").isEqualTo(1);

                assertThatThrownBy(() -> io.inline().readAtOnce(dst, 0)).isInstanceOf(IOException.class)
                        .hasMessageContaining("EBADF");
                IOException[] onVirtual = new IOException[1];
                OnVirtualThread.run(() -> {
                    try {
                        io.inline().readInline(dst, 0);
                    } catch (IOException e) {
                        onVirtual[0] = e;
                    }
                });
                assertThat(onVirtual[0]).as("readInline on a virtual thread").hasMessageContaining("EBADF");
                assertThatThrownBy(() -> io.inline().readInline(dst, 0))
                        .as("a platform thread's own pread").hasMessageContaining("EBADF");
                assertThatThrownBy(() -> readOnly.inline().writeInline(ByteBuffer.allocateDirect(4096), 0))
                        .as("a platform thread's own pwrite").hasMessageContaining("EBADF");
                recording.stop();
                recording.dump(out);

                assertThat(engine.stats().inlineHits()).as("readAtOnce's and readInline's, beside it").isEqualTo(3);
                assertThat(engine.stats().inlineMisses()).isZero();
                assertThat(engine.stats().poolRuns()).isZero();
                assertThat(dst.position()).isZero();
            } finally {
                io.file().close();
                readOnly.file().close();
            }
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(out).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.panaio.File"))
                .filter(e -> path.toString().equals(e.getString("path"))).toList();
        assertThat(events).extracting(e -> e.getEventType().getName() + " " + e.getString("answeredBy"))
                .containsExactlyInAnyOrder("dev.panaio.FileRead page cache", "dev.panaio.FileRead page cache",
                        "dev.panaio.FileRead page cache", "dev.panaio.FileRead calling thread",
                        "dev.panaio.FileWrite calling thread");
    }
}
