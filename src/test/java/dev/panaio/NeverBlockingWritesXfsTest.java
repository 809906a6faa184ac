package dev.panaio;

import dev.panaio.testing.LoopDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * The asynchronous channel's buffered writes on XFS, which takes
 * {@code pwritev2(RWF_NOWAIT)} for buffered writes where ext4 refuses it: there
 * a write is tried once on the caller's thread, into the page cache, and only
 * what that leaves goes to the file's queue on the pool. The filesystem is made
 * on a loop device under the build directory. What to expect is asked of the
 * kernel first, with a raw {@code pwritev2} ({@link BufferedNowaitWrites}): a
 * kernel whose XFS refuses NOWAIT (EOPNOTSUPP) must see every write queued
 * instead, and a probe that only ever got EAGAIN skips the test, since it tells
 * neither.
 *
 * <p>XFS answers EAGAIN to a NOWAIT write that would have to update the file's
 * timestamps (that takes a transaction), which the first write after the
 * clock's coarse tick does; the writes that follow it in the same tick go
 * through. So the evidence is counted over many writes, each waited for.
 */
class NeverBlockingWritesXfsTest {
    @TempDir
    Path dir;

    @Test
    void shouldAnswerBufferedWritesOnTheCallersThreadWhereXfsTakesNowait() throws Exception {
        try (LoopDevice xfs = LoopDevice.createXfs(dir, 320L << 20)) {
            BufferedNowaitWrites.checkAgainstTheKernel(xfs.mountPoint().resolve("probe"),
                    xfs.mountPoint().resolve("data"), "XFS", BufferedNowaitWrites.PersistentEagain.SKIPS);
        }
    }
}
