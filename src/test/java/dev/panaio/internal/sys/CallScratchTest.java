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
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link CallScratch}: the thread's own memory for the small calls made on a
 * file, here its {@code open} path, used through {@link AioFile#open} on real
 * files.
 */
class CallScratchTest {
    private static final int SEED = 83;
    /** A character of 3 UTF-8 bytes and one UTF-16 unit. */
    private static final String WIDE = "\u6587";
    /** Wide characters in the directory's name: 240 bytes, under the 255 a name may take. */
    private static final int MOST_IN_A_NAME = 80;
    /** The scratch's first size in bytes, which the path must outgrow by UTF-8 but not by its length. */
    private static final int FIRST_SCRATCH = 256;

    @TempDir
    Path dir;

    /**
     * A path of fewer UTF-16 units than the scratch's first 256 bytes, whose
     * UTF-8 is longer than that: the scratch must grow by what UTF-8 takes,
     * not by the string's length, and a shorter path after it still opens.
     * How many wide characters the names take follows from the length of the
     * test's directory, so that a deep checkout still tests this.
     */
    @Test
    void shouldOpenAPathWhoseUtf8IsLongerThanItsCharacters() throws Exception {
        // dir + "/" + wide directory + "/" + wide file + ".data", one unit short of the scratch with its NUL
        int wide = Math.min(120, FIRST_SCRATCH - 1 - dir.toString().length() - 7);
        int inDirectory = Math.min(MOST_IN_A_NAME, wide - 1);
        assumeTrue(inDirectory > 0, () -> "the test's directory is too long to add a name to: " + dir);
        Path deep = Files.createDirectories(dir.resolve(WIDE.repeat(inDirectory)))
                .resolve(WIDE.repeat(wide - inDirectory) + ".data");
        String name = deep.toString();
        assumeTrue(name.getBytes(StandardCharsets.UTF_8).length >= FIRST_SCRATCH,
                () -> "the test's directory is too long for a path under " + FIRST_SCRATCH + " units whose UTF-8 "
                        + "outgrows that: " + dir);
        assertThat(name.length()).as("UTF-16 units").isLessThan(FIRST_SCRATCH);
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
