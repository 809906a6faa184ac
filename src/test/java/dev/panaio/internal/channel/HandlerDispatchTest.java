package dev.panaio.internal.channel;

import org.junit.jupiter.api.Test;

import java.nio.channels.CompletionHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A handler handed to the caller's own executor (an asynchronous channel
 * opened with one), when that executor throws: the handler is called once,
 * on a delivery thread, rather than lost, even by an executor that queued
 * the call first.
 */
class HandlerDispatchTest {

    /** Counts its calls, and the threads they ran on. */
    private static final class Counting implements CompletionHandler<Integer, Void> {
        final List<Integer> completed = new CopyOnWriteArrayList<>();
        final List<Thread> ranOn = new CopyOnWriteArrayList<>();
        final CountDownLatch called = new CountDownLatch(1);

        @Override
        public void completed(Integer result, Void attachment) {
            completed.add(result);
            ranOn.add(Thread.currentThread());
            called.countDown();
        }

        @Override
        public void failed(Throwable error, Void attachment) {
            throw new AssertionError(error);
        }
    }

    @Test
    void shouldCallTheHandlerOnceWhenTheExecutorQueuesTheCallAndThenRefusesIt() throws Exception {
        Counting handler = new Counting();
        List<Runnable> queued = new ArrayList<>();
        Executor queuesThenRefuses = task -> {
            queued.add(task);
            throw new RejectedExecutionException("test: shut down while queueing");
        };
        var op = new ChannelCompletion.ToHandler<Void>(handler, null, queuesThenRefuses);
        op.succeed(4096);
        assertThat(handler.called.await(30, TimeUnit.SECONDS)).as("called within 30 s").isTrue();
        assertThat(handler.completed).as("calls once the executor refused").containsExactly(4096);
        assertThat(handler.ranOn.getFirst()).as("the thread it ran on").isNotSameAs(Thread.currentThread());
        assertThat(queued).hasSize(1);
        queued.removeFirst().run(); // the executor runs what it had queued after all
        assertThat(handler.completed).as("calls once the queued task ran too").containsExactly(4096);
    }

    @Test
    void shouldCallTheHandlerElsewhereAndReportWhenTheExecutorThrowsOtherwise() throws Exception {
        Counting handler = new Counting();
        IllegalStateException broken = new IllegalStateException("test: a broken executor");
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler before = Thread.currentThread().getUncaughtExceptionHandler();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            var op = new ChannelCompletion.ToHandler<Void>(handler, null, task -> {
                throw broken;
            });
            op.succeed(512);
        } finally {
            Thread.currentThread().setUncaughtExceptionHandler(before);
        }
        assertThat(handler.called.await(30, TimeUnit.SECONDS)).as("called within 30 s").isTrue();
        assertThat(handler.completed).as("calls").containsExactly(512);
        assertThat(handler.ranOn.getFirst()).as("the thread it ran on").isNotSameAs(Thread.currentThread());
        assertThat(reported).as("reported").containsExactly(broken);
    }
}
