package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.OpenDescriptors;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.SYNC;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * What the JDK documents for {@link AsynchronousFileChannel}, as tests, run
 * against the JDK's implementation as well as panaio's.
 */
abstract class AsynchronousFileChannelContract {
    static final int SEED = 5;

    @TempDir
    Path dir;

    abstract AsynchronousFileChannel open(Path path, OpenOption... options) throws IOException;

    /** As {@link AsynchronousFileChannel#open(Path, Set, ExecutorService, java.nio.file.attribute.FileAttribute[])}. */
    abstract AsynchronousFileChannel open(Path path, Set<? extends OpenOption> options, ExecutorService executor)
            throws IOException;

    private Path file(long size) throws IOException {
        return TestData.writeFile(dir.resolve("f"), size, SEED);
    }

    /** A CompletionHandler that completes a future, attachment checked. */
    private static <A> CompletionHandler<Integer, A> handler(CompletableFuture<Integer> future, A expected) {
        return new CompletionHandler<>() {
            @Override
            public void completed(Integer result, A attachment) {
                if (attachment != expected) {
                    future.completeExceptionally(new AssertionError("wrong attachment " + attachment));
                } else {
                    future.complete(result);
                }
            }

            @Override
            public void failed(Throwable error, A attachment) {
                future.completeExceptionally(error);
            }
        };
    }

    @Test
    void shouldReadWithAFutureAndAdvanceTheBuffer() throws Exception {
        try (AsynchronousFileChannel channel = open(file(10_000), READ)) {
            ByteBuffer dst = ByteBuffer.allocate(1000);
            assertThat(channel.read(dst, 4000).get(10, TimeUnit.SECONDS)).isEqualTo(1000);
            assertThat(dst.position()).isEqualTo(1000);
            assertThat(dst.get(999)).isEqualTo(TestData.byteAt(4999, SEED));
        }
    }

    @Test
    void shouldReadWithACompletionHandlerAndItsAttachment() throws Exception {
        try (AsynchronousFileChannel channel = open(file(10_000), READ)) {
            ByteBuffer dst = ByteBuffer.allocateDirect(512);
            CompletableFuture<Integer> done = new CompletableFuture<>();
            String attachment = "mine";
            channel.read(dst, 0, attachment, handler(done, attachment));
            assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo(512);
            assertThat(dst.get(0)).isEqualTo(TestData.byteAt(0, SEED));
        }
    }

    @Test
    void shouldReturnMinusOneAtEndOfFile() throws Exception {
        try (AsynchronousFileChannel channel = open(file(100), READ)) {
            assertThat(channel.read(ByteBuffer.allocate(10), 100).get(10, TimeUnit.SECONDS)).isEqualTo(-1);
            assertThat(channel.read(ByteBuffer.allocate(10), 95).get(10, TimeUnit.SECONDS)).isEqualTo(5);
        }
    }

    @Test
    void shouldWriteWithFuturesAndHandlers() throws Exception {
        Path path = file(100);
        try (AsynchronousFileChannel channel = open(path, READ, WRITE)) {
            ByteBuffer src = ByteBuffer.wrap(new byte[] {1, 2, 3});
            assertThat(channel.write(src, 200).get(10, TimeUnit.SECONDS)).isEqualTo(3);
            assertThat(src.hasRemaining()).isFalse();
            CompletableFuture<Integer> done = new CompletableFuture<>();
            channel.write(ByteBuffer.wrap(new byte[] {9}), 0, null, handler(done, null));
            assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(channel.size()).isEqualTo(203);
        }
        byte[] bytes = Files.readAllBytes(path);
        assertThat(bytes[0]).isEqualTo((byte) 9);
        assertThat(bytes[202]).isEqualTo((byte) 3);
    }

    @Test
    void shouldTruncateAndForce() throws Exception {
        try (AsynchronousFileChannel channel = open(file(1000), READ, WRITE)) {
            assertThat(channel.truncate(400)).isSameAs(channel);
            assertThat(channel.size()).isEqualTo(400);
            channel.force(true);
            assertThatThrownBy(() -> channel.truncate(-1)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldLockAndReportThisChannelAsTheOwner() throws Exception {
        try (AsynchronousFileChannel channel = open(file(1000), READ, WRITE)) {
            FileLock lock = channel.lock(0, 10, false).get(10, TimeUnit.SECONDS);
            assertThat(lock.acquiredBy()).isSameAs(channel);
            lock.release();
            FileLock tried = channel.tryLock(0, 10, true);
            assertThat(tried).isNotNull();
            assertThat(tried.acquiredBy()).isSameAs(channel);
            tried.release();
        }
    }

    @Test
    void shouldRejectNegativePositionsAndWrongAccess() throws Exception {
        Path path = file(100);
        try (AsynchronousFileChannel readOnly = open(path, READ); AsynchronousFileChannel writeOnly = open(path, WRITE)) {
            assertThatThrownBy(() -> readOnly.read(ByteBuffer.allocate(1), -1))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> readOnly.write(ByteBuffer.allocate(1), 0))
                    .isInstanceOf(NonWritableChannelException.class);
            assertThatThrownBy(() -> writeOnly.read(ByteBuffer.allocate(1), 0))
                    .isInstanceOf(NonReadableChannelException.class);
            assertThatThrownBy(() -> readOnly.read(ByteBuffer.allocate(1).asReadOnlyBuffer(), 0))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldFailRequestsOnAClosedChannelWithClosedChannelException() throws Exception {
        AsynchronousFileChannel channel = open(file(100), READ);
        channel.close();
        channel.close();
        assertThat(channel.isOpen()).isFalse();
        assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(1), 0).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ClosedChannelException.class);
        CompletableFuture<Integer> done = new CompletableFuture<>();
        channel.read(ByteBuffer.allocate(1), 0, null, handler(done, null));
        assertThatThrownBy(() -> done.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ClosedChannelException.class);
    }

    // ---- issue 8, §2: one descriptor, opened once, with every option the JDK accepts

    @Test
    void shouldAcceptDeleteOnCloseWithCreateNewAndUnlinkTheFileRightAfterOpening() throws Exception {
        Path path = dir.resolve("scratch");
        try (AsynchronousFileChannel channel = open(path, CREATE_NEW, READ, WRITE, DELETE_ON_CLOSE)) {
            assertThat(path).as("the JDK unlinks the file right after opening it, on Linux").doesNotExist();
            assertThat(channel.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0).get(10, TimeUnit.SECONDS)).isEqualTo(3);
            assertThat(channel.read(ByteBuffer.allocate(3), 0).get(10, TimeUnit.SECONDS)).isEqualTo(3);
        }
        assertThat(path).doesNotExist();
    }

    @Test
    void shouldAcceptDeleteOnCloseWithCreate() throws Exception {
        Path path = file(100);
        try (AsynchronousFileChannel channel = open(path, CREATE, READ, DELETE_ON_CLOSE)) {
            assertThat(path).doesNotExist();
            assertThat(channel.read(ByteBuffer.allocate(100), 0).get(10, TimeUnit.SECONDS)).isEqualTo(100);
        }
    }

    @Test
    void shouldHoldExactlyOneDescriptorPerOpenChannel() throws Exception {
        Path path = file(100);
        try (AsynchronousFileChannel warmUp = open(path, READ)) {
            warmUp.read(ByteBuffer.allocate(1), 0).get(10, TimeUnit.SECONDS);
        }
        int before = OpenDescriptors.on(path);
        List<AsynchronousFileChannel> channels = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                channels.add(open(path, READ, WRITE));
            }
            assertThat(OpenDescriptors.on(path) - before).as("descriptors on the file for 20 open channels")
                    .isEqualTo(20);
        } finally {
            for (AsynchronousFileChannel channel : channels) {
                channel.close();
            }
        }
        assertThat(OpenDescriptors.on(path)).isEqualTo(before);
    }

    // ---- issue 8, §3: the JDK's contract for pending operations, handlers and errors

    @Test
    void shouldCompleteOrFailWithAsynchronousCloseExceptionTheWritesPendingAtClose() throws Exception {
        Path path = dir.resolve("w");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int round = 0; round < 40; round++) {
                AsynchronousFileChannel channel = open(path, CREATE, WRITE, SYNC);
                List<Future<Integer>> writes = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    writes.add(channel.write(ByteBuffer.wrap(new byte[4096]), i * 4096L));
                }
                channel.close();
                for (Future<Integer> write : writes) {
                    assertCompletedOrAsynchronouslyClosed(write, 4096, round);
                }
            }
        });
    }

    @Test
    void shouldCompleteOrFailWithAsynchronousCloseExceptionTheReadsPendingAtClose() throws Exception {
        Path path = file(1 << 20);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int round = 0; round < 40; round++) {
                AsynchronousFileChannel channel = open(path, READ);
                List<Future<Integer>> reads = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    reads.add(channel.read(ByteBuffer.allocate(65536), i * 65536L));
                }
                channel.close();
                for (Future<Integer> read : reads) {
                    assertCompletedOrAsynchronouslyClosed(read, 65536, round);
                }
            }
        });
    }

    private static void assertCompletedOrAsynchronouslyClosed(Future<Integer> request, int bytes, int round)
            throws Exception {
        try {
            assertThat(request.get(10, TimeUnit.SECONDS)).isEqualTo(bytes);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).as("round %d: a request pending at close()", round)
                    .isInstanceOf(AsynchronousCloseException.class);
        }
    }

    @Test
    void shouldNeverRunACompletionHandlerOnTheThreadThatStartedTheOperation() throws Exception {
        Path path = file(10_000);
        try (AsynchronousFileChannel channel = open(path, READ, WRITE)) {
            for (int i = 0; i < 50; i++) { // the file was just written: the page cache answers at once
                CompletableFuture<Thread> read = new CompletableFuture<>();
                channel.read(ByteBuffer.allocate(100), 100L * i, null, threadOf(read));
                assertThat(read.get(10, TimeUnit.SECONDS)).as("thread of read %d's handler", i)
                        .isNotSameAs(Thread.currentThread());
                CompletableFuture<Thread> write = new CompletableFuture<>();
                channel.write(ByteBuffer.allocate(100), 100L * i, null, threadOf(write));
                assertThat(write.get(10, TimeUnit.SECONDS)).as("thread of write %d's handler", i)
                        .isNotSameAs(Thread.currentThread());
            }
        }
    }

    /**
     * A handler that holds a lock while it starts a read does not see that
     * read's handler, which takes the same lock, run inside it: the JDK runs
     * it on another pool thread, which waits for the lock; panaio, when the
     * page cache answers at once, on the same thread once the first returns.
     */
    @Test
    void shouldNotRunTheHandlerOfAReadInsideTheHandlerThatStartedIt() throws Exception {
        Path path = file(10_000);
        try (AsynchronousFileChannel channel = open(path, READ)) {
            ReentrantLock lock = new ReentrantLock();
            for (int round = 0; round < 20; round++) {
                AtomicBoolean outerDone = new AtomicBoolean();
                CompletableFuture<Boolean> innerSawOuterDone = new CompletableFuture<>();
                CompletionHandler<Integer, Void> inner = new CompletionHandler<>() {
                    @Override
                    public void completed(Integer result, Void attachment) {
                        lock.lock();
                        try {
                            innerSawOuterDone.complete(outerDone.get());
                        } finally {
                            lock.unlock();
                        }
                    }

                    @Override
                    public void failed(Throwable error, Void attachment) {
                        innerSawOuterDone.completeExceptionally(error);
                    }
                };
                channel.read(ByteBuffer.allocate(100), 0, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer result, Void attachment) {
                        lock.lock();
                        try {
                            channel.read(ByteBuffer.allocate(100), 200, null, inner);
                            outerDone.set(true);
                        } catch (Throwable t) {
                            innerSawOuterDone.completeExceptionally(t);
                        } finally {
                            lock.unlock();
                        }
                    }

                    @Override
                    public void failed(Throwable error, Void attachment) {
                        innerSawOuterDone.completeExceptionally(error);
                    }
                });
                assertThat(innerSawOuterDone.get(10, TimeUnit.SECONDS))
                        .as("round %d: the inner handler ran after the outer one let its lock go", round).isTrue();
            }
        }
    }

    /**
     * A handler that starts a read and then waits for that read's handler
     * gets it: the JDK's default pool runs it on another thread, and so must
     * panaio's, even when the page cache answers the read at once.
     */
    @Test
    void shouldRunTheHandlerOfAReadWhileTheHandlerThatStartedItWaitsForIt() throws Exception {
        assertOuterHandlerSees(5, inner -> inner.get(30, TimeUnit.SECONDS));
    }

    /**
     * As above, with a handler that spins instead of blocking: its thread
     * stays runnable and busy, as a computing handler's does, and the read's
     * handler must still run while it spins.
     */
    @Test
    void shouldRunTheHandlerOfAReadWhileTheHandlerThatStartedItSpinsForIt() throws Exception {
        assertOuterHandlerSees(3, inner -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!inner.isDone() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            return inner.getNow(-2); // -2: nothing in 30 s
        });
    }

    /** How a handler waits for the result of the read it started. */
    private interface WaitForInner {
        int await(CompletableFuture<Integer> inner) throws Exception;
    }

    /**
     * For {@code rounds} rounds: a handler starts a read of 100 bytes and
     * waits for its handler's result as {@code waiting} does; it must see 100.
     */
    private void assertOuterHandlerSees(int rounds, WaitForInner waiting) throws Exception {
        Path path = file(10_000);
        try (AsynchronousFileChannel channel = open(path, READ)) {
            for (int round = 0; round < rounds; round++) {
                CompletableFuture<Integer> inner = new CompletableFuture<>();
                CompletableFuture<Integer> outerSaw = new CompletableFuture<>();
                channel.read(ByteBuffer.allocate(100), 0, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer result, Void attachment) {
                        try {
                            channel.read(ByteBuffer.allocate(100), 300, null, handler(inner, null));
                            outerSaw.complete(waiting.await(inner));
                        } catch (Throwable t) {
                            outerSaw.completeExceptionally(t);
                        }
                    }

                    @Override
                    public void failed(Throwable error, Void attachment) {
                        outerSaw.completeExceptionally(error);
                    }
                });
                assertThat(outerSaw.get(60, TimeUnit.SECONDS))
                        .as("round %d: what the waiting handler saw", round).isEqualTo(100);
            }
        }
    }

    /**
     * As above, with a handler that waits in a system call (a blocking read
     * of a pipe, which Java counts as a runnable thread) for what the read's
     * handler writes into the pipe.
     */
    @Test
    void shouldRunTheHandlerOfAReadWhileTheHandlerThatStartedItWaitsInASystemCall() throws Exception {
        List<Pipe> pipes = new CopyOnWriteArrayList<>();
        try {
            assertOuterHandlerSees(2, inner -> {
                Pipe pipe = Pipe.open();
                pipes.add(pipe);
                // The read's handler completes inner on its own thread, which then writes the count into the pipe.
                inner.thenAccept(n -> {
                    try {
                        pipe.sink().write(ByteBuffer.wrap(new byte[] {n.byteValue()}));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                ByteBuffer one = ByteBuffer.allocate(1);
                int n = pipe.source().read(one); // blocks in read(2) until the read's handler writes
                return n == 1 ? one.get(0) : n;
            });
        } finally {
            for (Pipe pipe : pipes) { // on failure, ends a read still blocked, so the thread does not stay behind
                pipe.sink().close();
                pipe.source().close();
            }
        }
    }

    /** A handler that records the thread it ran on, and fails the future with what it failed with. */
    static <V, A> CompletionHandler<V, A> threadOf(CompletableFuture<Thread> ranOn) {
        return new CompletionHandler<>() {
            @Override
            public void completed(V result, A attachment) {
                ranOn.complete(Thread.currentThread());
            }

            @Override
            public void failed(Throwable error, A attachment) {
                ranOn.completeExceptionally(error);
            }
        };
    }

    @Test
    void shouldRunTheLockHandlerOnTheExecutorGivenToOpen() throws Exception {
        Path path = file(100);
        String name = "contract-handler-executor";
        ExecutorService executor = Executors.newSingleThreadExecutor(task -> new Thread(task, name));
        try (AsynchronousFileChannel channel = open(path, Set.of(READ, WRITE), executor)) {
            CompletableFuture<Thread> locked = new CompletableFuture<>();
            channel.lock(0, 10, false, null, threadOf(locked));
            assertThat(locked.get(10, TimeUnit.SECONDS).getName()).isEqualTo(name);
            CompletableFuture<Thread> read = new CompletableFuture<>();
            channel.read(ByteBuffer.allocate(10), 0, null, threadOf(read));
            assertThat(read.get(10, TimeUnit.SECONDS).getName()).isEqualTo(name);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void shouldFailTheFutureWithAnIOExceptionForAMisalignedPositionOrLengthOnADirectChannel() throws Exception {
        Path path = file(1 << 16);
        // Position 1 and length 1 break any direct I/O alignment; the buffer is aligned to the block size.
        int block = Math.toIntExact(Files.getFileStore(path).getBlockSize());
        ByteBuffer buffer = ByteBuffer.allocateDirect(2 * block).alignedSlice(block).limit(block);
        try (AsynchronousFileChannel channel = open(path, READ, WRITE, ExtendedOpenOption.DIRECT)) {
            assertFailsWithIOException(() -> channel.read(buffer.clear().limit(block), 1));
            assertFailsWithIOException(() -> channel.read(buffer.clear().limit(1), 0));
            assertFailsWithIOException(() -> channel.write(buffer.clear().limit(block), 1));
            assertFailsWithIOException(() -> channel.write(buffer.clear().limit(1), 0));
        }
    }

    private static void assertFailsWithIOException(Callable<Future<Integer>> request) {
        assertThatThrownBy(() -> request.call().get(10, TimeUnit.SECONDS))
                .as("the future fails; the call itself does not throw")
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IOException.class);
    }

    // ---- found by the final review, each as the JDK's channel does it

    @Test
    void shouldRefuseAppendAsTheJdk() throws IOException {
        Path path = file(100);
        assertThatThrownBy(() -> open(path, WRITE, java.nio.file.StandardOpenOption.APPEND))
                .isInstanceOf(UnsupportedOperationException.class).hasMessage("APPEND not allowed");
    }

    @Test
    void shouldFailAReadOrWriteWhoseEndOverflowsWithAnIoExceptionAsTheJdk() throws Exception {
        Path path = file(100);
        try (AsynchronousFileChannel channel = open(path, READ, WRITE)) {
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(100), Long.MAX_VALUE - 10).get())
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(IOException.class)
                    .hasMessageStartingWith("Invalid argument");
            assertThatThrownBy(() -> channel.write(ByteBuffer.allocate(100), Long.MAX_VALUE - 10).get())
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(IOException.class)
                    .hasMessageStartingWith("Invalid argument");
        }
    }

    @Test
    void shouldReportAClosedChannelBeforeBadLockArgumentsAsTheJdk() throws IOException {
        AsynchronousFileChannel channel = open(file(100), READ, WRITE);
        channel.close();
        assertThatThrownBy(() -> channel.tryLock(-1, 10, false)).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> channel.lock(-1, 10, false).get())
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(ClosedChannelException.class);
    }
}
