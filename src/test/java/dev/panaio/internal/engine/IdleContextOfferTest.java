package dev.panaio.internal.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The baton of an idle engine loop, on its own: who may touch the context, and how the engine takes it back. */
class IdleContextOfferTest {

    @Test
    void shouldOfferOnlyWhenIdleAfterABusyPeriodOfAtMostOneRequest() {
        IdleContextOffer offer = new IdleContextOffer();
        offer.offerIfIdle(false);
        assertThat(offer.isOffered()).as("offered with work queued or in flight").isFalse();
        offer.noteOutstanding(2);
        offer.offerIfIdle(true);
        assertThat(offer.isOffered()).as("offered after two requests were outstanding at once").isFalse();
        offer.noteOutstanding(1);
        offer.offerIfIdle(true);
        assertThat(offer.isOffered()).as("offered after a busy period of one request").isTrue();
        assertThat(offer.tryTake()).isTrue();
        assertThat(offer.tryTake()).as("a second submitter takes the baton too").isFalse();
        offer.giveBack();
        assertThat(offer.engineHolds()).isTrue();
    }

    @Test
    void shouldMakeTheEngineParkRatherThanSpinWhileACallerHoldsTheBaton() throws Exception {
        IdleContextOffer offer = new IdleContextOffer();
        offer.offerIfIdle(true);
        assertThat(offer.tryTake()).isTrue(); // a submitter inside io_submit, descheduled for as long as it takes
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread engine = new Thread(() -> {
            try {
                offer.takeBack();
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "engine");
        engine.start();
        // Spinning and yielding keep the thread RUNNABLE; once they are spent it parks between looks.
        // The state the loop saw is the one asserted: the thread wakes between parks, so a second look may find
        // it RUNNABLE for a moment.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Thread.State seen = engine.getState();
        while (seen != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.sleep(1);
            seen = engine.getState();
        }
        assertThat(seen).as("the waiting engine thread's state").isEqualTo(Thread.State.TIMED_WAITING);
        assertThat(offer.engineHolds()).as("taken back while the caller holds it").isFalse();
        offer.giveBack();
        engine.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(engine.isAlive()).as("the engine thread still waiting after the baton came back").isFalse();
        assertThat(failure.get()).isNull();
        assertThat(offer.engineHolds()).isTrue();
    }

    @Test
    void shouldRethrowOnTakingBackWhatBrokeTheContextUnderTheCaller() {
        IdleContextOffer offer = new IdleContextOffer();
        offer.offerIfIdle(true);
        assertThat(offer.tryTake()).isTrue();
        IllegalStateException broken = new IllegalStateException("the context broke under the caller");
        offer.callerFailed(broken);
        offer.giveBack();
        assertThatThrownBy(offer::takeBack).isSameAs(broken);
    }
}
