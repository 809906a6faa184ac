package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/** The engine's JFR events: dev.panaio.SubmitBatch and dev.panaio.BackpressureWait, read back from a recording. */
class JfrEngineEventsTest {
    @TempDir
    Path dir;

    @FunctionalInterface
    private interface Io {
        void run() throws Exception;
    }

    private List<RecordedEvent> record(String eventName, Io io) throws Exception {
        Path out = dir.resolve("recording.jfr");
        try (Recording recording = new Recording()) {
            recording.enable(eventName).withThreshold(Duration.ZERO);
            recording.start();
            io.run();
            recording.stop();
            recording.dump(out);
        }
        return RecordingFile.readAllEvents(out).stream()
                .filter(e -> e.getEventType().getName().equals(eventName))
                .toList();
    }

    @Test
    void shouldRecordEachSubmissionBatchWithItsRequests() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 << 10, 1);
        try (AioEngine engine = AioEngine.builder().capacity(32).build();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             AioArena arena = AioArena.open()) {
            List<RecordedEvent> batches = record("dev.panaio.SubmitBatch", () -> {
                List<CompletableFuture<Integer>> reads = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    reads.add(engine.read(file, arena.allocate(4096, 4096), i * 4096L));
                }
                reads.forEach(CompletableFuture::join);
            });
            assertThat(batches).isNotEmpty();
            assertThat(batches.stream().mapToInt(e -> e.getInt("submitted")).sum()).isEqualTo(16);
            assertThat(batches).allSatisfy(e -> {
                assertThat(e.getInt("requests")).isEqualTo(e.getInt("submitted")).isPositive();
                // An idle engine lets the caller submit its one request itself (EngineLoopTest).
                assertThat(e.getThread().getJavaName()).satisfiesAnyOf(
                        name -> assertThat(name).startsWith("panaio-engine-"),
                        name -> assertThat(name).isEqualTo(Thread.currentThread().getName()));
            });
            assertThat(batches.size()).isEqualTo(engine.stats().ioSubmitCalls());
        }
    }

    @Test
    void shouldRecordAWaitForRoomInAFullQueue() throws Exception {
        try (EventFd never = EventFd.open()) {
            AioEngine engine = AioEngine.builder().capacity(1).maxPending(1).build();
            for (int i = 0; i < engine.capacity(); i++) {
                engine.poll(never, 1); // never ready: they fill the kernel
            }
            while (engine.stats().inFlight() < engine.capacity()) {
                Thread.sleep(5);
            }
            engine.poll(never, 1); // and this, the queue
            List<RecordedEvent> waits = record("dev.panaio.BackpressureWait", () -> {
                Thread parked = Thread.ofPlatform().name("parked").start(() -> engine.poll(never, 1));
                while (engine.stats().backpressureWaits() == 0) {
                    Thread.sleep(5);
                }
                engine.close(); // fails the queued request: the parked thread gets room, and fails too
                parked.join();
            });
            assertThat(waits).singleElement().satisfies(e -> {
                assertThat(e.getInt("maxPending")).isEqualTo(1);
                assertThat(e.getThread().getJavaName()).isEqualTo("parked");
            });
        }
    }
}
