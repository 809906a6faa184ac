package dev.panaio.internal.channel;

import org.junit.jupiter.api.Test;

import java.nio.channels.CompletionHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A handler handed to the caller's own executor (an asynchronous channel
 * opened with one), when that executor throws: the handler is called once,
 * here, rather than lost, even by an executor that queued the call first.
 */
class HandlerDispatchTest {

    /** Counts its calls. */
    private static final class Counting implements CompletionHandler<Integer, Void> {
        final List<Integer> completed = new CopyOnWriteArrayList<>();

        @Override
        public void completed(Integer result, Void attachment) {
            completed.add(result);
        }

        @Override
        public void failed(Throwable error, Void attachment) {
            throw new AssertionError(error);
        }
    }

    @Test
    void shouldCallTheHandlerOnceWhenTheExecutorQueuesTheCallAndThenRefusesIt() {
        Counting handler = new Counting();
        List<Runnable> queued = new ArrayList<>();
        Executor queuesThenRefuses = task -> {
            queued.add(task);
            throw new RejectedExecutionException("test: shut down while queueing");
        };
        var op = new ChannelCompletion.ToHandler<Void>(handler, null, queuesThenRefuses);
        op.succeed(4096);
        assertThat(handler.completed).as("calls once the executor refused").containsExactly(4096);
        assertThat(queued).hasSize(1);
        queued.removeFirst().run(); // the executor runs what it had queued after all
        assertThat(handler.completed).as("calls once the queued task ran too").containsExactly(4096);
    }

    @Test
    void shouldCallTheHandlerHereAndReportWhenTheExecutorThrowsOtherwise() {
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
        assertThat(handler.completed).as("calls").containsExactly(512);
        assertThat(reported).as("reported").containsExactly(broken);
    }
}
