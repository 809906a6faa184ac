package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import dev.panaio.testing.child.ExitWithIoInFlight;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JVM ending with thousands of reads in flight.
 * Part of the fault tests; see {@link FaultTesting}.
 */
class FaultJvmExitTest extends FaultTesting {
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
}
