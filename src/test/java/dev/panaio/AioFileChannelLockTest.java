package dev.panaio;

import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * AioFileChannel's locks: Linux open file description locks on the channel's one descriptor, beside the
 * JDK's.
 */
class AioFileChannelLockTest {
    private static final int SEED = 1;

    @TempDir
    Path dir;

    // ------------------------------------------------------------ locks: OFD locks on the channel's descriptor

    @Test
    void shouldConflictWithAJdkChannelsLockOnTheSameFileInThisJvm() throws Exception {
        Path path = TestData.writeFile(dir.resolve("locked"), 100, SEED);
        try (FileChannel jdk = FileChannel.open(path, READ, WRITE);
             AioFileChannel panaio = AioFileChannel.open(path, READ, WRITE)) {
            java.nio.channels.FileLock held = panaio.lock(0, 10, false);
            assertThat(jdk.tryLock(0, 10, false)).as("the JDK sees panaio's OFD lock as another holder's").isNull();
            held.release();
            java.nio.channels.FileLock jdkLock = jdk.lock(0, 10, false);
            assertThat(panaio.tryLock(5, 10, false)).isNull();
            jdkLock.release();
            assertThat(panaio.tryLock(5, 10, false)).isNotNull();
        }
    }

    @Test
    void shouldThrowOverlappingFileLockExceptionAcrossPanaioChannelsOfOneFile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("locked"), 100, SEED);
        try (AioFileChannel first = AioFileChannel.open(path, READ, WRITE);
             AioAsynchronousFileChannel second = AioAsynchronousFileChannel.open(path, READ, WRITE)) {
            java.nio.channels.FileLock held = first.lock(0, 10, true);
            assertThatThrownBy(() -> second.tryLock(5, 10, true))
                    .isInstanceOf(java.nio.channels.OverlappingFileLockException.class);
            assertThatThrownBy(() -> second.lock(5, 10, true, null, null))
                    .isInstanceOf(NullPointerException.class);
            held.release();
            assertThat(second.lock(5, 10, true).get(10, TimeUnit.SECONDS).isValid()).isTrue();
        }
    }

    @Test
    void shouldCloseTheChannelAndThrowFileLockInterruptionExceptionWhenABlockingLockIsInterrupted()
            throws Exception {
        Path path = TestData.writeFile(dir.resolve("locked"), 100, SEED);
        try (FileChannel jdk = FileChannel.open(path, READ, WRITE)) {
            java.nio.channels.FileLock held = jdk.lock(0, 10, false);
            AioFileChannel channel = AioFileChannel.open(path, READ, WRITE);
            CompletableFuture<Throwable> thrown = new CompletableFuture<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    channel.lock(0, 10, false);
                    thrown.complete(null);
                } catch (Throwable t) {
                    thrown.complete(t);
                }
            });
            awaitWaitingForTheLock(waiter); // waiting for the JDK's lock
            waiter.interrupt();
            assertThat(thrown.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(java.nio.channels.FileLockInterruptionException.class);
            assertThat(channel.isOpen()).isFalse();

            // Closing any descriptor of the file drops this process's POSIX locks on it (the JDK's FileLock
            // javadoc warns of it): the JDK's lock went with the interrupted channel, so take it again.
            assertThat(held.isValid()).isTrue(); // as far as the JDK knows
            held.release();
            java.nio.channels.FileLock heldAgain = jdk.lock(0, 10, false);
            AioFileChannel closing = AioFileChannel.open(path, READ, WRITE);
            CompletableFuture<Throwable> closedMeanwhile = new CompletableFuture<>();
            Thread locker = Thread.ofPlatform().start(() -> {
                try {
                    closing.lock(0, 10, false);
                    closedMeanwhile.complete(null);
                } catch (Throwable t) {
                    closedMeanwhile.complete(t);
                }
            });
            awaitWaitingForTheLock(locker); // closed before its lock call, it would throw ClosedChannelException
            closing.close();
            assertThat(closedMeanwhile.get(10, TimeUnit.SECONDS)).isInstanceOf(AsynchronousCloseException.class);

            heldAgain.release();
            java.nio.channels.FileLock heldOnceMore = jdk.lock(0, 10, false);
            try (AioFileChannel waiting = AioFileChannel.open(path, READ, WRITE)) {
                Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(100);
                        heldOnceMore.release();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                assertThat(waiting.lock(0, 10, false).isValid()).as("taken once the JDK's lock is released")
                        .isTrue();
            }
        }
    }

    @Test
    void shouldReleaseTheLocksOfAChannelDroppedWithoutClose() throws Exception {
        Path path = TestData.writeFile(dir.resolve("locked"), 100, SEED);
        lockAndDrop(path);
        try (AioFileChannel channel = AioFileChannel.open(path, READ, WRITE)) {
            java.nio.channels.FileLock lock = null;
            for (int i = 0; i < 200 && lock == null; i++) {
                System.gc();
                try {
                    lock = channel.tryLock(0, 10, false);
                } catch (java.nio.channels.OverlappingFileLockException stillHeld) {
                    Thread.sleep(50);
                }
            }
            assertThat(lock).as("the dropped channel's lock, released by its cleaner").isNotNull();
        }
    }

    /**
     * Waits, up to 30 s, until {@code thread} waits inside a channel's
     * {@code lock} for a lock another holds: a fixed sleep was once too short
     * for a thread started on a loaded machine to get there.
     */
    private static void awaitWaitingForTheLock(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Arrays.stream(thread.getStackTrace()).anyMatch(frame -> frame.getMethodName().equals("lockReserved"))
                && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(thread.getStackTrace()).as("the locking thread's stack")
                .anyMatch(frame -> frame.getMethodName().equals("lockReserved"));
    }

    private static void lockAndDrop(Path path) throws IOException {
        AioFileChannel dropped = AioFileChannel.open(path, READ, WRITE);
        assertThat(dropped.tryLock(0, 10, false)).isNotNull();
    }
}
