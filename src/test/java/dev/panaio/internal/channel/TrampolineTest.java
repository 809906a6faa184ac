package dev.panaio.internal.channel;

import dev.panaio.internal.engine.CompletionSink;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

import static org.assertj.core.api.Assertions.assertThat;

class TrampolineTest {
    private static final int CHAIN = 600;

    /** A callback that starts the next read from inside its own, as a handler does: a chain of completions. */
    private static final class Chain implements CompletionSink {
        final List<Long> delivered = new ArrayList<>();
        final Executor pool;

        Chain(Executor pool) {
            this.pool = pool;
        }

        @Override
        public void finish(long result) {
            delivered.add(result);
            if (result + 1 < CHAIN) {
                Trampoline.deliver(this, result + 1, pool);
            }
        }

        @Override
        public void fail(Throwable error) {
            throw new AssertionError(error);
        }
    }

    /**
     * A chain longer than one thread delivers in a row, where the rest could
     * not be handed off (no delivery thread could be made, and such a pool
     * queues nothing): delivered here, each once, in order, rather than lost.
     */
    @Test
    void shouldDeliverTheRestOfAChainHereWhenNoThreadCanTakeIt() {
        Error noThread = new Error("test: unable to create native thread"); // not an OOM: fatal to JUnit's run
        Chain chain = new Chain(task -> {
            throw noThread;
        });
        List<Throwable> reported = new ArrayList<>();
        Thread.UncaughtExceptionHandler before = Thread.currentThread().getUncaughtExceptionHandler();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            Trampoline.deliver(chain, 0, chain.pool);
        } finally {
            Thread.currentThread().setUncaughtExceptionHandler(before);
        }
        assertThat(reported).as("failures reported").isNotEmpty().allMatch(e -> e == noThread);
        assertThat(chain.delivered).as("results delivered").hasSize(CHAIN);
        for (int i = 0; i < CHAIN; i++) {
            assertThat(chain.delivered.get(i)).as("delivery %d", i).isEqualTo(i);
        }
    }
}
