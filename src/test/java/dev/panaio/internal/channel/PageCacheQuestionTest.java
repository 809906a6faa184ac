package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PageCacheQuestionTest {
    private static final int SEED = 53;
    private static final long STRIDE = 1 << 16;

    /**
     * Skips where cachestat is missing (before Linux 6.5) or forbidden (a
     * seccomp filter): a question of its own about the evicted file, which
     * then answers "read it" for every range.
     */
    private static void assumeCachestat(AioFile evicted) {
        assumeTrue(!new PageCacheQuestion(SharedSecrets.fileAccess().handle(evicted)).worthReadingInline(0, 4096),
                "cachestat(2) is not available here (Linux 6.5+, not forbidden by seccomp)");
    }

    @TempDir
    Path dir;

    @Test
    void shouldStopAskingAboutEveryReadOfAFileWhoseReadsKeepMissingButOneInSixteen() throws Exception {
        int reads = 256;
        Path path = TestData.writeFile(dir.resolve("missing"), reads * STRIDE, SEED);
        try (AioFile file = AioFile.open(path, READ)) {
            PageCacheQuestion question = new PageCacheQuestion(SharedSecrets.fileAccess().handle(file));
            PageCache.evict(path);
            assumeCachestat(file);
            for (int i = 0; i < reads; i++) {
                assertThat(question.worthReadingInline(i * STRIDE, 4096)).as("read %d, evicted", i).isFalse();
            }
            int asking = PageCacheQuestion.UNHELD_BEFORE_SKIPPING;
            int expected = asking + (reads - asking) / PageCacheQuestion.ASK_ONE_IN_WHILE_MISSING;
            assertThat(question.questionsAsked()).as("cachestat calls for %d reads that all miss", reads)
                    .isEqualTo(expected);
        }
    }

    @Test
    void shouldAskAboutEveryReadAgainOnceAnAnswerSaysTheCacheHoldsTheRange() throws Exception {
        int reads = 64;
        Path path = TestData.writeFile(dir.resolve("returning"), reads * STRIDE, SEED);
        try (AioFile file = AioFile.open(path, READ)) {
            PageCacheQuestion question = new PageCacheQuestion(SharedSecrets.fileAccess().handle(file));
            PageCache.evict(path);
            assumeCachestat(file);
            for (int i = 0; i < PageCacheQuestion.UNHELD_BEFORE_SKIPPING; i++) {
                assertThat(question.worthReadingInline(i * STRIDE, 4096)).isFalse();
            }
            Files.readAllBytes(path); // the whole file in the page cache now
            // Until the one read in N that asks, reads go to the pool unasked; that one finds the range held.
            int untilAsked = 0;
            while (!question.worthReadingInline(0, 4096)) {
                untilAsked++;
                assertThat(untilAsked).as("reads sent to the pool unasked").isLessThan(
                        PageCacheQuestion.ASK_ONE_IN_WHILE_MISSING);
            }
            int asked = question.questionsAsked();
            for (int i = 0; i < reads; i++) {
                assertThat(question.worthReadingInline(i * STRIDE, 4096)).as("read %d, cached", i).isTrue();
            }
            assertThat(question.questionsAsked() - asked).as("cachestat calls once the cache held a range")
                    .isEqualTo(reads);
        }
    }
}
