package dev.panaio.internal.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class ClaimedTaskTest {

    /** Counts its runs. */
    private static final class Counting extends ClaimedTask {
        final AtomicInteger runs = new AtomicInteger();

        @Override
        protected void runClaimed() {
            runs.incrementAndGet();
        }
    }

    @Test
    void shouldRunNothingOnceTheHandOffClaimedIt() {
        Counting task = new Counting();
        assertThat(task.claim()).as("the hand-off's claim").isTrue();
        task.run(); // the executor's thread, after the executor threw
        assertThat(task.runs.get()).isZero();
        assertThat(task.claim()).as("a second claim").isFalse();
    }

    @Test
    void shouldRunOnceAndLeaveNothingToClaimAfterwards() {
        Counting task = new Counting();
        task.run();
        task.run();
        assertThat(task.runs.get()).isEqualTo(1);
        assertThat(task.claim()).as("the hand-off's claim after the run").isFalse();
    }
}
