package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.OnVirtualThread;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/** The channels' JFR events, {@code dev.panaio.FileRead} and {@code dev.panaio.FileWrite}, read back from a recording. */
class JfrFileEventsTest {
    private static final int SEED = 17;

    @TempDir
    Path dir;

    @FunctionalInterface
    private interface Io {
        void run() throws Exception;
    }

    private List<RecordedEvent> record(Io io) throws Exception {
        Path out = dir.resolve("recording.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("dev.panaio.FileRead").withThreshold(Duration.ZERO);
            recording.enable("dev.panaio.FileWrite").withThreshold(Duration.ZERO);
            recording.start();
            io.run();
            recording.stop();
            recording.dump(out);
        }
        return RecordingFile.readAllEvents(out).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.panaio.File"))
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime)) // threads' buffers interleave
                .toList();
    }

    @Test
    void shouldRecordBufferedReadsAndWritesWithTheJdkFieldsAndWhoAnswered() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 8192, SEED);
        List<RecordedEvent> events = record(() -> {
            try (AioFileChannel channel = AioFileChannel.open(path, READ, WRITE)) {
                channel.read(ByteBuffer.allocateDirect(4096), 0);      // cached: answered inline
                channel.read(ByteBuffer.allocate(4096), 8192);         // at end of file
                channel.write(ByteBuffer.allocate(100), 8192);
            }
        });

        assertThat(events).hasSize(3);
        RecordedEvent hit = events.get(0);
        assertThat(hit.getEventType().getName()).isEqualTo("dev.panaio.FileRead");
        assertThat(hit.getString("path")).isEqualTo(path.toString());
        assertThat(hit.getLong("bytesRead")).isEqualTo(4096);
        assertThat(hit.getBoolean("endOfFile")).isFalse();
        assertThat(hit.getBoolean("direct")).isFalse();
        assertThat(hit.getString("answeredBy")).isEqualTo("calling thread"); // a platform thread's own pread
        assertThat(hit.getThread().getJavaName()).isEqualTo(Thread.currentThread().getName());
        assertThat(hit.getDuration().isNegative()).isFalse();

        RecordedEvent eof = events.get(1);
        assertThat(eof.getLong("bytesRead")).isZero();
        assertThat(eof.getBoolean("endOfFile")).isTrue();

        RecordedEvent write = events.get(2);
        assertThat(write.getEventType().getName()).isEqualTo("dev.panaio.FileWrite");
        assertThat(write.getString("path")).isEqualTo(path.toString());
        assertThat(write.getLong("bytesWritten")).isEqualTo(100);
        assertThat(write.getBoolean("direct")).isFalse();
        assertThat(write.getString("answeredBy")).isEqualTo("calling thread");
    }

    /**
     * A platform thread's buffered write of a heap buffer too large to copy
     * through the thread's scratch takes the general path, which still makes
     * the thread's own pwritev2 (it waits whatever makes it), and says so as
     * the short one does.
     */
    @Test
    void shouldSayALargeHeapWriteOnAPlatformThreadWasTheCallingThreads() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 8192, SEED);
        int large = 256 << 10;
        List<RecordedEvent> events = record(() -> {
            try (AioFileChannel channel = AioFileChannel.open(path, READ, WRITE)) {
                channel.write(ByteBuffer.allocate(large), 0);
            }
        });
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.getLong("bytesWritten")).isEqualTo(large);
            assertThat(e.getString("answeredBy")).isEqualTo("calling thread");
        });
    }

    @Test
    void shouldSayAReadTheCacheCouldNotAnswerRanOnThePool() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 << 10, SEED);
        try (AioFileChannel channel = AioFileChannel.open(path, READ)) {
            PageCache.evict(path);
            // On a virtual thread: a platform thread makes its own pread, hit or miss.
            List<RecordedEvent> events = record(() -> OnVirtualThread.run(
                    () -> channel.read(ByteBuffer.allocateDirect(4096), 4096)));
            assertThat(events).singleElement().satisfies(e -> {
                assertThat(e.getLong("bytesRead")).isEqualTo(4096);
                assertThat(e.getString("answeredBy")).isEqualTo("pool");
            });
            PageCache.evict(path);
            assertThat(record(() -> channel.read(ByteBuffer.allocateDirect(4096), 8192))).singleElement()
                    .satisfies(e -> assertThat(e.getString("answeredBy")).isEqualTo("calling thread"));
        }
    }

    @Test
    void shouldRecordDirectReadsAndWritesAsKernelAio() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 << 10, SEED);
        List<RecordedEvent> events = record(() -> {
            try (AioFileChannel channel = AioFileChannel.open(path, READ, WRITE, ExtendedOpenOption.DIRECT);
                 AioAsynchronousFileChannel async = AioAsynchronousFileChannel.open(path, READ,
                         ExtendedOpenOption.DIRECT)) {
                channel.write(ByteBuffer.allocate(4096), 0);
                async.read(ByteBuffer.allocateDirect(8192), 8192).get();
            }
        });
        assertThat(events).hasSize(2);
        assertThat(events).allSatisfy(e -> {
            assertThat(e.getBoolean("direct")).isTrue();
            assertThat(e.getString("answeredBy")).isEqualTo("kernel AIO");
        });
        assertThat(events.get(0).getEventType().getName()).isEqualTo("dev.panaio.FileWrite");
        assertThat(events.get(0).getLong("bytesWritten")).isEqualTo(4096);
        assertThat(events.get(1).getEventType().getName()).isEqualTo("dev.panaio.FileRead");
        assertThat(events.get(1).getLong("bytesRead")).isEqualTo(8192);
    }

    @Test
    void shouldRecordNothingWhenTheEventsAreNotEnabled() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 8192, SEED);
        Path out = dir.resolve("recording.jfr");
        try (Recording recording = new Recording(); AioFileChannel channel = AioFileChannel.open(path, READ)) {
            recording.disable("dev.panaio.FileRead");
            recording.disable("dev.panaio.FileWrite");
            recording.start();
            channel.read(ByteBuffer.allocate(4096), 0);
            recording.stop();
            recording.dump(out);
        }
        assertThat(RecordingFile.readAllEvents(out))
                .noneMatch(e -> e.getEventType().getName().startsWith("dev.panaio.File"));
    }
}
