package dev.panaio;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.Syscalls;
import dev.panaio.testing.TestData;
import dev.panaio.testing.ThreadIo;

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
 * The check behind the filesystem tests of the asynchronous channel's buffered
 * writes ({@link NeverBlockingWritesXfsTest}, {@link NeverBlockingWritesBtrfsTest}):
 * first a raw {@code pwritev2(RWF_NOWAIT)} asks the kernel what the filesystem
 * answers, then writes made one at a time through the channel must agree with
 * that answer. Where the kernel took the raw write, writes are answered on the
 * caller's thread; where it refused NOWAIT (EOPNOTSUPP), or answered EAGAIN to
 * every try and the filesystem is one that says EAGAIN for good, every write
 * is queued and the caller writes nothing.
 *
 * <p>The evidence is counted over many writes, each waited for, and never
 * timed: the bytes the calling thread's own write calls carried (the kernel's
 * per-thread accounting) and the engine's count of writes run on the pool.
 */
final class BufferedNowaitWrites {
    private static final int SEED = 41;
    private static final int BLOCK = 4096;
    /** Writes answered on the caller that end the loop: far more than one clock tick's luck on XFS. */
    private static final int ANSWERED_ENOUGH = 32;
    private static final int MAX_WRITES = 8192;
    /** Writes made where the kernel's answer means none is made on the caller. */
    private static final int QUEUED_WRITES = 64;
    /** Raw NOWAIT writes the probe tries while the answer is EAGAIN. */
    static final int PROBE_TRIES = 1000;
    private static final int O_WRONLY = 01;
    private static final int O_CREAT = 0100;
    private static final int O_CLOEXEC = 02000000;

    private BufferedNowaitWrites() {
    }

    /** What a persistent EAGAIN from the probe means on the filesystem under test. */
    enum PersistentEagain {
        /** Nothing known (XFS: it says EAGAIN only for a moment, once per clock tick): the test skips. */
        SKIPS,
        /** The filesystem's answer for this file (btrfs, copy-on-write): every write must be queued. */
        MEANS_QUEUED
    }

    /**
     * Probes the filesystem with a file {@code probe}, then writes {@code data} one block at a time through the
     * asynchronous channel and checks where the writes were made against the probe's answer, and that the file
     * reads back intact through the channel and the JDK.
     *
     * @param what names the filesystem (and kind of file) in messages
     */
    static void checkAgainstTheKernel(Path probe, Path data, String what, PersistentEagain eagain) throws Exception {
        assumeTrue(ThreadIo.available(), "no per-thread I/O accounting here");
        long answer = nowaitWriteAfterAPlainOne(probe);
        assumeTrue(answer != -ErrnoExceptions.EAGAIN || eagain == PersistentEagain.MEANS_QUEUED,
                "pwritev2(RWF_NOWAIT) on " + what + " answered EAGAIN " + PROBE_TRIES
                        + " times in a row: whether this kernel takes it is not known");
        assertThat(answer == BLOCK || answer == -ErrnoExceptions.EOPNOTSUPP || answer == -ErrnoExceptions.EAGAIN)
                .as("the kernel's answer to pwritev2(RWF_NOWAIT) on %s: %d", what, answer).isTrue();
        boolean takesNowait = answer == BLOCK;

        int writes = 0;
        long answeredHere = 0;
        long callerBytes;
        try (AioEngine engine = AioEngine.open();
             AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(data,
                     Set.of(READ, WRITE, CREATE), null, engine)) {
            long before = ThreadIo.bytesWrittenHere();
            int limit = takesNowait ? MAX_WRITES : QUEUED_WRITES;
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
        String seen = String.format(Locale.ROOT, "on %s: %d writes, %d answered on the caller, %d bytes written by "
                + "its thread; the raw NOWAIT write gave %d", what, writes, answeredHere, callerBytes, answer);
        if (takesNowait) {
            assertThat(answeredHere).as(seen).isGreaterThanOrEqualTo(ANSWERED_ENOUGH);
            // A NOWAIT write stopped short would have its rest queued: the caller then carried more than whole
            // writes' worth, never less.
            assertThat(callerBytes).as(seen).isBetween(answeredHere * BLOCK, (long) writes * BLOCK);
        } else {
            assertThat(answeredHere).as(seen).isZero();
            assertThat(callerBytes).as(seen).isZero();
        }
        assertThat(Files.size(data)).isEqualTo((long) writes * BLOCK);
        assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(data)), 0, SEED))
                .as("first byte read back wrong through the JDK").isEqualTo(-1);
    }

    /**
     * What {@code pwritev2(RWF_NOWAIT)} of one block answers on a fresh file of
     * the filesystem, right after a plain write of the block has set the
     * file's timestamps: the block's length where the filesystem takes it,
     * {@code -EOPNOTSUPP} where it refuses NOWAIT. Tried up to
     * {@link #PROBE_TRIES} times, as long as the answer is EAGAIN (XFS: the
     * clock ticked in between, or it would have waited for something else);
     * EAGAIN is returned if it never stopped.
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
