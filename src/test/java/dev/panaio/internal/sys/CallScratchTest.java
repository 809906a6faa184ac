package dev.panaio.internal.sys;

import dev.panaio.AioFile;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link CallScratch}: the thread's own memory for the small calls made on a
 * file, here its {@code open} path, used through {@link AioFile#open} on real
 * files.
 */
class CallScratchTest {
    private static final int SEED = 83;
    /** 80 characters of 3 UTF-8 bytes each: 240 bytes, under the 255 a name may take. */
    private static final String WIDE_NAME = "\u6587".repeat(80);

    @TempDir
    Path dir;

    /**
     * A path of fewer UTF-16 units than the scratch's first 256 bytes, whose
     * UTF-8 is longer than that: the scratch must grow by what UTF-8 takes,
     * not by the string's length, and a shorter path after it still opens.
     */
    @Test
    void shouldOpenAPathWhoseUtf8IsLongerThanItsCharacters() throws Exception {
        Path deep = Files.createDirectories(dir.resolve(WIDE_NAME)).resolve(WIDE_NAME.substring(0, 40) + ".data");
        String name = deep.toString();
        assertThat(name.length()).as("UTF-16 units").isLessThan(256);
        assertThat(name.getBytes(StandardCharsets.UTF_8).length).as("UTF-8 bytes").isGreaterThan(256);
        TestData.writeFile(deep, 12288, SEED);
        Path shallow = TestData.writeFile(dir.resolve("short"), 4096, SEED);

        try (AioFile file = AioFile.open(deep, READ)) {
            assertThat(file.size()).isEqualTo(12288);
        }
        try (AioFile file = AioFile.open(shallow, READ)) {
            assertThat(file.size()).as("a short path after a long one").isEqualTo(4096);
        }
        MemorySegment path = CallScratch.get().path(name);
        assertThat(path.getString(0)).isEqualTo(name);
    }

    /**
     * Each thread has its own: the same scratch on every call of a thread (so
     * that its calls allocate nothing), and a path one thread holds is not
     * overwritten by another thread's use of its own.
     */
    @Test
    void shouldKeepOneScratchPerThread() throws Exception {
        CallScratch mine = CallScratch.get();
        assertThat(CallScratch.get()).isSameAs(mine);
        MemorySegment held = mine.path(dir.resolve("held by the test's thread").toString());

        AtomicReference<CallScratch> theirs = new AtomicReference<>();
        Thread other = Thread.ofPlatform().start(() -> {
            theirs.set(CallScratch.get());
            theirs.get().path("/another thread's path");
        });
        other.join();

        assertThat(held.getString(0)).isEqualTo(dir.resolve("held by the test's thread").toString());
        assertThat(theirs.get()).isNotSameAs(mine);
    }
}
