package dev.panaio.internal.engine;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioFile;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sink that wraps a direct write panaio submits with RWF_NOWAIT passes
 * the kernel bookkeeping on to the sink it wraps: a channel counts its
 * requests in the kernel there, and its close waits for them, so a write
 * must be counted as a read is.
 */
class NowaitFallbackTest {
    @TempDir
    Path dir;

    /** What the pool throws when it can make no thread, as Thread.start does. */
    private static final class NoThread extends Error {
        NoThread() {
            super("test: unable to create native thread");
        }
    }

    /** The wrapped sink: what it is told, in order; {@code admit} is its answer to entering the kernel. */
    private static final class Recording implements CompletionSink {
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile boolean admit = true;

        @Override
        public void finish(long result) {
            calls.add("finish " + result);
        }

        @Override
        public void fail(Throwable error) {
            calls.add("fail " + error.getClass().getSimpleName());
        }

        @Override
        public boolean enteringKernel() {
            calls.add("entering");
            return admit;
        }

        @Override
        public void handedBack() {
            calls.add("handedBack");
        }

        @Override
        public void finishOffPool(long result) {
            calls.add("finishOffPool " + result);
        }

        @Override
        public void failOffPool(Throwable error) {
            calls.add("failOffPool " + error.getClass().getSimpleName());
        }
    }

    @Test
    void shouldLetTheWrappedSinkCountTheWriteInAndOutOfTheKernel() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 4096, 1);
        try (AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofShared()) {
            Recording next = new Recording();
            List<Request> resubmitted = new CopyOnWriteArrayList<>();
            Request write = Request.write(file, arena.allocate(4096, 4096), 0, "aio");
            assertThat(NowaitFallback.appliesTo(write)).isTrue();
            NowaitFallback.Submission submission = NowaitFallback.wrap(write, next, Runnable::run, () -> { },
                    (request, sink) -> {
                        assertThat(sink).isSameAs(next);
                        resubmitted.add(request);
                    });
            CompletionSink sink = submission.sink();

            assertThat(sink.enteringKernel()).as("entering, the channel open").isTrue();
            next.admit = false;
            assertThat(sink.enteringKernel()).as("entering, the channel's close begun").isFalse();
            sink.handedBack();
            assertThat(next.calls).containsExactly("entering", "entering", "handedBack");

            // io_submit refused the NOWAIT panaio added (tmpfs): the write is queued again, out of the kernel's
            // count until it is prepared again.
            next.calls.clear();
            sink.finish(-ErrnoExceptions.EOPNOTSUPP);
            assertThat(next.calls).containsExactly("handedBack");
            assertThat(resubmitted).containsExactly(write);
        }
    }

    /*
     * A write the kernel answered with EAGAIN waits in the blocking pool's queue: it is out of the channel's count
     * there (a close must not wait for queued work), and counts in again when a pool thread starts it; once the
     * close has begun it fails with AsynchronousCloseException instead of writing.
     */
    @Test
    void shouldCountAWriteOutWhileItWaitsForThePoolAndFailItIfTheCloseBeganMeanwhile() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 4096, 1);
        try (AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofShared()) {
            Recording next = new Recording();
            List<Runnable> pool = new CopyOnWriteArrayList<>();
            Request write = Request.write(file, arena.allocate(4096, 4096), 0, "aio");
            CompletionSink sink = NowaitFallback.wrap(write, next, pool::add, () -> { }, (request, s) -> { }).sink();

            assertThat(sink.enteringKernel()).isTrue();
            sink.finish(-ErrnoExceptions.EAGAIN);
            assertThat(next.calls).as("before the pool runs it").containsExactly("entering", "handedBack");
            assertThat(pool).hasSize(1);

            next.calls.clear();
            next.admit = false; // the channel's close has begun
            pool.removeFirst().run();
            assertThat(next.calls).containsExactly("entering", "failOffPool AsynchronousCloseException");

            next.calls.clear();
            next.admit = true;
            sink.finish(-ErrnoExceptions.EAGAIN);
            pool.removeFirst().run();
            assertThat(next.calls).containsExactly("handedBack", "entering", "finishOffPool 4096");
        }
    }

    /*
     * A pool that queued the write and then threw (a ThreadPoolExecutor that could make no thread for its queue): the
     * write fails once, where it was handed over, and the pool thread that takes it later neither enters the kernel's
     * count nor writes, from memory the failure gave back.
     */
    @Test
    void shouldFinishAWriteOnceWhenThePoolQueuesItAndThenThrows() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 4096, 1);
        try (AioFile file = AioFile.open(path, READ, WRITE, ExtendedOpenOption.DIRECT);
             Arena arena = Arena.ofShared()) {
            Recording next = new Recording();
            List<Runnable> pool = new CopyOnWriteArrayList<>();
            Request write = Request.write(file, arena.allocate(4096, 4096), 0, "aio"); // zeros over the file's data
            CompletionSink sink = NowaitFallback.wrap(write, next, task -> {
                pool.add(task);
                throw new NoThread(); // as Thread.start throws; not an OutOfMemoryError, fatal to JUnit's run
            }, () -> { }, (request, s) -> { }).sink();

            sink.finish(-ErrnoExceptions.EAGAIN);
            assertThat(next.calls).containsExactly("handedBack", "fail NoThread");
            assertThat(pool).as("tasks the pool queued").hasSize(1);
            pool.removeFirst().run(); // the pool thread that takes it after all
            assertThat(next.calls).as("once the late task ran").containsExactly("handedBack", "fail NoThread");
            assertThat(TestData.firstMismatch(MemorySegment.ofArray(Files.readAllBytes(path)), 0, 1))
                    .as("first byte of the file the late task wrote").isEqualTo(-1);
        }
    }
}
