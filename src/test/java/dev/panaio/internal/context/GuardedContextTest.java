package dev.panaio.internal.context;

import dev.panaio.AioFile;
import dev.panaio.RequestOptions;
import dev.panaio.internal.context.IocbWriter.Abi;
import dev.panaio.testing.OpenDescriptors;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@link GuardedContext} promises beyond the {@code AioContext} calls it
 * serves (tested through that API in {@code AioContextTest} and the rest):
 * a caller's vector is its own again once prepared, and the engine's
 * {@link GuardedContext#releasePinnedFile} lets a closed file's descriptor
 * go. Real files, real io_submit.
 */
class GuardedContextTest {
    private static final int SEED = 97;
    private static final int MAX_CAPACITY = 64;

    @TempDir
    Path dir;

    /** Reaps until {@code count} completions have come, each result recorded; buffered AIO completes in io_submit. */
    private static List<Long> reapAll(GuardedContext context, int count) {
        List<Long> results = new ArrayList<>();
        while (results.size() < count) {
            context.reap(count, (tag, result) -> results.add(result));
        }
        return results;
    }

    /**
     * A vectored read not handed over copies the caller's array: buffers the
     * caller puts in it after the prepare receive nothing, and the ones it
     * named receive the file's bytes (here memory of a caller's shared arena,
     * read through a bounce buffer and copied back at the reap).
     */
    @Test
    void shouldReadIntoTheBuffersNamedAtPrepareWhateverTheCallerPutsInItsArrayAfter() throws Exception {
        Path path = TestData.writeFile(dir.resolve("vector"), 8192, SEED);
        GuardedContext context = GuardedContext.open(8, MAX_CAPACITY, true);
        try (Arena arena = Arena.ofShared(); AioFile file = AioFile.open(path, READ)) {
            MemorySegment first = arena.allocate(1000);
            MemorySegment second = arena.allocate(3000);
            MemorySegment[] dsts = {first, second};
            context.prepareVectored(Abi.CMD_PREADV, file, dsts, false, 100, 1, RequestOptions.NONE);
            dsts[0] = arena.allocate(1000);
            dsts[1] = arena.allocate(3000);
            MemorySegment firstPutIn = dsts[0];
            MemorySegment secondPutIn = dsts[1];
            assertThat(context.submit()).isEqualTo(1);

            assertThat(reapAll(context, 1)).containsExactly(4000L);
            assertThat(TestData.firstMismatch(first, 100, SEED)).isEqualTo(-1);
            assertThat(TestData.firstMismatch(second, 1100, SEED)).isEqualTo(-1);
            assertThat(dsts).as("the caller's array after the reap").containsExactly(firstPutIn, secondPutIn);
            assertThat(dsts[0].mismatch(arena.allocate(1000))).as("the first buffer put in after the prepare")
                    .isEqualTo(-1);
            assertThat(dsts[1].mismatch(arena.allocate(3000))).as("the second buffer put in after the prepare")
                    .isEqualTo(-1);
        } finally {
            context.close();
        }
    }

    /**
     * The context keeps a use of the last batch's file across batches; the
     * engine's thread lets go of it before it sleeps, so that a file closed
     * meanwhile closes its descriptor then, not at the next request. On a
     * closed context there is nothing to let go, and no exception.
     */
    @Test
    void shouldLetAClosedFilesDescriptorGoWhenThePinIsReleased() throws Exception {
        Path path = TestData.writeFile(dir.resolve("pinned"), 8192, SEED);
        GuardedContext context = GuardedContext.open(8, MAX_CAPACITY, true);
        try (Arena arena = Arena.ofShared(); AioFile file = AioFile.open(path, READ)) {
            MemorySegment memory = arena.allocate(4096);
            context.prepareHandedOver(true, file, memory, 0, 7, RequestOptions.NONE);
            assertThat(context.submit()).isEqualTo(1);
            assertThat(reapAll(context, 1)).containsExactly(4096L);
            assertThat(TestData.firstMismatch(memory, 0, SEED)).isEqualTo(-1);

            file.close(); // the test's own close; the one at the end of the block does nothing more
            assertThat(OpenDescriptors.on(path)).as("closed while the context holds its use").isEqualTo(1);
            context.releasePinnedFile();
            assertThat(OpenDescriptors.on(path)).as("after releasePinnedFile").isZero();
        } finally {
            context.close();
        }
        context.releasePinnedFile();
        assertThat(context.isClosed()).isTrue();
    }
}
