package dev.panaio;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.Syscalls;
import dev.panaio.testing.LoopDevice;
import dev.panaio.testing.TestData;
import dev.panaio.testing.ThreadIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The asynchronous channel's buffered writes on XFS, which takes
 * {@code pwritev2(RWF_NOWAIT)} for buffered writes where ext4 refuses it: there
 * a write is tried once on the caller's thread, into the page cache, and only
 * what that leaves goes to the file's queue on the pool. The filesystem is made
 * on a loop device under the build directory. What to expect is asked of the
 * kernel first, with a raw {@code pwritev2}: a kernel whose XFS refuses NOWAIT
 * (EOPNOTSUPP) must see every write queued instead, and a probe that only ever
 * got EAGAIN skips the test, since it tells neither.
 *
 * <p>XFS answers EAGAIN to a NOWAIT write that would have to update the file's
 * timestamps (that takes a transaction), which the first write after the
 * clock's coarse tick does; the writes that follow it in the same tick go
 * through. So the evidence is counted over many writes, each waited for, and
 * never timed: the bytes the calling thread's own write calls carried (the
 * kernel's per-thread accounting) and the engine's count of writes run on the
 * pool.
 */
class NeverBlockingWritesXfsTest {
    private static final int SEED = 41;
    private static final int BLOCK = 4096;
    /** Writes answered on the caller that end the loop: far more than one tick's luck. */
    private static final int ANSWERED_ENOUGH = 32;
    private static final int MAX_WRITES = 8192;
    /** Raw NOWAIT writes the probe tries while the answer is EAGAIN. */
    private static final int PROBE_TRIES = 1000;
    private static final int O_WRONLY = 01;
    private static final int O_CREAT = 0100;
    private static final int O_CLOEXEC = 02000000;

    @TempDir
    Path dir;

    @Test
    void shouldAnswerBufferedWritesOnTheCallersThreadWhereXfsTakesNowait() throws Exception {
        assumeTrue(ThreadIo.available(), "no per-thread I/O accounting here");
        try (LoopDevice xfs = LoopDevice.createXfs(dir, 320L << 20)) {
            long probe = nowaitWriteAfterAPlainOne(xfs.mountPoint().resolve("probe"));
            assumeTrue(probe != -ErrnoExceptions.EAGAIN, "pwritev2(RWF_NOWAIT) on XFS answered EAGAIN "
                    + PROBE_TRIES + " times in a row: whether this kernel takes it is not known");
            assertThat(probe == BLOCK || probe == -ErrnoExceptions.EOPNOTSUPP)
                    .as("the kernel's answer to pwritev2(RWF_NOWAIT) on XFS: %d", probe).isTrue();
            boolean takesNowait = probe == BLOCK;

            Path path = xfs.mountPoint().resolve("data");
            int writes = 0;
            long answeredHere = 0;
            long callerBytes;
            try (AioEngine engine = AioEngine.open();
                 AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(path,
                         Set.of(READ, WRITE, CREATE), null, engine)) {
                long before = ThreadIo.bytesWrittenHere();
                int limit = takesNowait ? MAX_WRITES : 64;
                while (writes < limit && answeredHere < ANSWERED_ENOUGH) {
                    ByteBuffer src = writes % 2 == 0 ? ByteBuffer.allocateDirect(BLOCK) : ByteBuffer.allocate(BLOCK);
                    TestData.fill(MemorySegment.ofBuffer(src), (long) writes * BLOCK, SEED);
                    assertThat(channel.write(src, (long) writes * BLOCK).get(30, TimeUnit.SECONDS)).isEqualTo(BLOCK);
                    writes++;
                    answeredHere = writes - engine.stats().poolRuns();
                }
                callerBytes = ThreadIo.bytesWrittenHere() - before;

                ByteBuffer back = ByteBuffer.allocateDirect(writes * BLOCK);
                while (back.hasRemaining()) {
                    assertThat(channel.read(back, back.position()).get(30, TimeUnit.SECONDS)).isPositive();
                }
                assertThat(TestData.firstMismatch(MemorySegment.ofBuffer(back.flip()), 0, SEED))
                        .as("first byte read back wrong through the channel").isEqualTo(-1);
            }
            String seen = String.format(Locale.ROOT, "%d writes, %d answered on the caller, %d bytes written by its "
                    + "thread; the raw NOWAIT write gave %d", writes, answeredHere, callerBytes, probe);
            if (takesNowait) {
                assertThat(answeredHere).as(seen).isGreaterThanOrEqualTo(ANSWERED_ENOUGH);
                // A NOWAIT write stopped short would have its rest queued: the caller then carried more than whole
                // writes' worth, never less.
                assertThat(callerBytes).as(seen).isBetween(answeredHere * BLOCK, (long) writes * BLOCK);
            } else {
                assertThat(answeredHere).as(seen).isZero();
                assertThat(callerBytes).as(seen).isZero();
            }
            assertThat(Files.size(path)).isEqualTo((long) writes * BLOCK);
            assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)), 0, SEED))
                    .as("first byte read back wrong through the JDK").isEqualTo(-1);
        }
    }

    /**
     * What {@code pwritev2(RWF_NOWAIT)} of one block answers on a fresh file of
     * the filesystem, right after a plain write of the block has set the
     * file's timestamps: the block's length where the filesystem takes it,
     * {@code -EOPNOTSUPP} where it refuses NOWAIT. Tried up to
     * {@link #PROBE_TRIES} times, as long as the answer is EAGAIN (the clock
     * ticked in between, or XFS would have waited for something else); EAGAIN
     * is returned if it never stopped, which tells neither.
     */
    private static long nowaitWriteAfterAPlainOne(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Syscalls.errnoCapture(arena);
            long fd = Syscalls.open(errno, arena.allocateFrom(file.toString()), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            assertThat(fd).as("open(%s)", file).isNotNegative();
            try {
                MemorySegment block = arena.allocate(BLOCK, BLOCK);
                MemorySegment iov = iovec.allocate(arena);
                iovec.iov_base(iov, block);
                iovec.iov_len(iov, BLOCK);
                long answer = -ErrnoExceptions.EAGAIN;
                for (int i = 0; i < PROBE_TRIES && answer == -ErrnoExceptions.EAGAIN; i++) {
                    assertThat(Syscalls.pwritev2(errno, (int) fd, iov, 1, 0, 0)).as("plain pwritev2").isEqualTo(BLOCK);
                    answer = Syscalls.pwritev2(errno, (int) fd, iov, 1, 0, aio_abi_h.RWF_NOWAIT());
                }
                return answer;
            } finally {
                Syscalls.close(errno, (int) fd);
            }
        }
    }
}
