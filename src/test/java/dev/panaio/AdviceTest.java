package dev.panaio;

import dev.panaio.testing.PageCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Advice}: each constant carries the kernel's value (a swap would
 * give the wrong access pattern silently, since posix_fadvise accepts every
 * value), and the advice reaches the kernel, seen in the page cache.
 */
class AdviceTest {
    /** The values of {@code <linux/fadvise.h>} (the same on x86_64 and aarch64). */
    private static final Map<Advice, Integer> LINUX = Map.of(Advice.NORMAL, 0, Advice.RANDOM, 1,
            Advice.SEQUENTIAL, 2, Advice.WILLNEED, 3, Advice.DONTNEED, 4, Advice.NOREUSE, 5);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Advice.class)
    void shouldCarryTheKernelsValue(Advice advice) {
        assertThat(advice.value()).isEqualTo(LINUX.get(advice));
    }

    @ParameterizedTest
    @EnumSource(Advice.class)
    void shouldAcceptEachAdvice(Advice advice) throws Exception {
        Path path = Files.write(dir.resolve("advice"), new byte[8192]);
        try (AioFile file = AioFile.open(path, READ)) {
            file.advise(0, 0, advice);
            file.advise(4096, 4096, advice);
        }
    }

    /** WILLNEED brings an evicted file's pages in; DONTNEED drops them again. */
    @Test
    void shouldMoveTheFileInAndOutOfThePageCache() throws Exception {
        int pages = 64;
        Path path = Files.write(dir.resolve("cache"), new byte[pages * 4096]);
        PageCache.evict(path);
        try (AioFile file = AioFile.open(path, READ)) {
            file.advise(0, 0, Advice.WILLNEED);
            assertThat(awaitResident(path, pages)).as("pages cached after WILLNEED").isEqualTo(pages);
            file.advise(0, 0, Advice.DONTNEED);
            assertThat(PageCache.residentPages(path)).as("pages cached after DONTNEED").isZero();
        }
    }

    /** WILLNEED starts the reads and returns: wait up to 10 s for them. */
    private static long awaitResident(Path path, long pages) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        long resident = PageCache.residentPages(path);
        while (resident < pages && System.nanoTime() < deadline) {
            Thread.sleep(5);
            resident = PageCache.residentPages(path);
        }
        return resident;
    }
}
