package dev.panaio.internal.channel;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.channels.CompletionHandler;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The call of a handler whose read the page cache answered at once: on the
 * default pool, never inside the call that started the read; behind the
 * running handler when that call came from one; failed with the error; and a
 * handler that throws is reported without ending the chain it runs in.
 */
class AnsweredHandlerTest {
    private static final long WAIT_SECONDS = 30;
    /**
     * Rounds of the scenarios that depend on a thread not being held up: a
     * handler deferred behind one that has run a millisecond (preempted, on a
     * loaded machine) is moved to another thread by the watcher, as it must
     * be. One round in which all went as promised shows the path; broken, no
     * round can.
     */
    private static final int ROUNDS = 20;

    /** A scenario's round: whether it went as promised. */
    private interface Round {
        boolean run() throws Exception;
    }

    private static boolean inSomeRound(Round round) throws Exception {
        for (int i = 0; i < ROUNDS; i++) {
            if (round.run()) {
                return true;
            }
        }
        return false;
    }

    /** What a handler saw: its thread, and the value or error with the attachment. */
    private record Seen(Thread thread, Object outcome, Object attachment) {
    }

    /** A handler that completes {@code seen} with what it is called with. */
    private static CompletionHandler<Integer, String> recording(CompletableFuture<Seen> seen) {
        return new CompletionHandler<>() {
            @Override
            public void completed(Integer value, String attachment) {
                seen.complete(new Seen(Thread.currentThread(), value, attachment));
            }

            @Override
            public void failed(Throwable error, String attachment) {
                seen.complete(new Seen(Thread.currentThread(), error, attachment));
            }
        };
    }

    @Test
    void shouldCallTheHandlerOnAPoolThreadNotTheCallersWithItsCountAndAttachment() throws Exception {
        CompletableFuture<Seen> seen = new CompletableFuture<>();
        AnsweredHandler.completed(recording(seen), "a", 4096);
        Seen call = seen.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(call.thread()).isNotSameAs(Thread.currentThread());
        assertThat(call.thread().getName()).startsWith("panaio-handler-");
        assertThat(call.outcome()).isEqualTo(4096);
        assertThat(call.attachment()).isEqualTo("a");
    }

    @Test
    void shouldCallFailedWithTheError() throws Exception {
        CompletableFuture<Seen> seen = new CompletableFuture<>();
        IOException error = new IOException("answered at once with an error");
        AnsweredHandler.failed(recording(seen), "b", error);
        Seen call = seen.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(call.outcome()).isSameAs(error);
        assertThat(call.attachment()).isEqualTo("b");
    }

    /** Started from a handler on the pool: runs on that thread, once the starting handler has returned. */
    @Test
    void shouldRunBehindTheStartingHandlerOnItsThread() throws Exception {
        assertThat(inSomeRound(AnsweredHandlerTest::behindTheStartingHandler))
                .as("a round in which the inner handler ran on the outer's thread, after it returned").isTrue();
    }

    private static boolean behindTheStartingHandler() throws Exception {
        CompletableFuture<Seen> seen = new CompletableFuture<>();
        CompletableFuture<Thread> outer = new CompletableFuture<>();
        List<String> order = new CopyOnWriteArrayList<>();
        HandlerChains.execute(() -> {
            AnsweredHandler.completed(new CompletionHandler<Integer, String>() {
                @Override
                public void completed(Integer value, String attachment) {
                    order.add("inner");
                    recording(seen).completed(value, attachment);
                }

                @Override
                public void failed(Throwable error, String attachment) {
                    recording(seen).failed(error, attachment);
                }
            }, "c", 512);
            order.add("outer returns");
            outer.complete(Thread.currentThread());
        });
        Seen call = seen.get(WAIT_SECONDS, TimeUnit.SECONDS);
        return order.equals(List.of("outer returns", "inner"))
                && call.thread() == outer.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** A throwing handler goes to the uncaught-exception handler; the handler deferred behind it still runs there. */
    @Test
    void shouldReportAThrowingHandlerAndRunTheNextOnTheSameThread() throws Exception {
        assertThat(inSomeRound(AnsweredHandlerTest::throwingThenNext))
                .as("a round in which the throw was reported and the next handler ran on the same thread").isTrue();
    }

    private static boolean throwingThenNext() throws Exception {
        CompletableFuture<Seen> seen = new CompletableFuture<>();
        CompletableFuture<Thread> outer = new CompletableFuture<>();
        CompletableFuture<Thread> threwOn = new CompletableFuture<>();
        CompletableFuture<Thread.UncaughtExceptionHandler> replaced = new CompletableFuture<>();
        CompletableFuture<Throwable> reported = new CompletableFuture<>();
        RuntimeException thrown = new IllegalStateException("a handler that throws");
        HandlerChains.execute(() -> {
            Thread.UncaughtExceptionHandler before = Thread.currentThread().getUncaughtExceptionHandler();
            replaced.complete(before);
            Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.complete(e));
            AnsweredHandler.completed(new CompletionHandler<Integer, String>() {
                @Override
                public void completed(Integer value, String attachment) {
                    threwOn.complete(Thread.currentThread());
                    throw thrown;
                }

                @Override
                public void failed(Throwable error, String attachment) {
                }
            }, "d", 1);
            AnsweredHandler.completed(new CompletionHandler<Integer, String>() {
                @Override
                public void completed(Integer value, String attachment) {
                    recording(seen).completed(value, attachment);
                }

                @Override
                public void failed(Throwable error, String attachment) {
                }
            }, "e", 2);
            outer.complete(Thread.currentThread());
        });
        Seen next = seen.get(WAIT_SECONDS, TimeUnit.SECONDS);
        Thread outerThread = outer.get(WAIT_SECONDS, TimeUnit.SECONDS);
        try {
            if (threwOn.get(WAIT_SECONDS, TimeUnit.SECONDS) != outerThread) {
                // The watcher moved the deferred handlers (the outer one was held up a whole period): their report
                // went to another thread's handler, as it must; this round shows nothing about the chain.
                return false;
            }
            assertThat(reported.get(WAIT_SECONDS, TimeUnit.SECONDS)).isSameAs(thrown);
            return next.thread() == outerThread;
        } finally {
            outerThread.setUncaughtExceptionHandler(replaced.get(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldHandTheHandlerAnIntegerEqualToTheCountWhetherOrNotItsBoxIsMadeOnce() {
        // Around the edges of the boxes made once (whole 512-byte blocks, 512 to 64 KiB) and far from them.
        int[] counts = {-1, 0, 1, 127, 128, 511, 512, 513, 1024, 4095, 4096, 4097, 8192, 65_024, 65_535, 65_536,
                65_537, 66_048, 131_072, 1 << 20, Integer.MAX_VALUE - 511, Integer.MIN_VALUE};
        for (int count : counts) {
            assertThat(AnsweredHandler.boxed(count)).as("the box of %d", count).isEqualTo(count);
        }
        assertThat(AnsweredHandler.boxed(4096)).as("a 4 KiB read's count, boxed once").isSameAs(
                AnsweredHandler.boxed(4096));
    }
}
