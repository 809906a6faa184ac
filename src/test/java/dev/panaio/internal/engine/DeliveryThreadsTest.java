package dev.panaio.internal.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class DeliveryThreadsTest {

    /**
     * Where no delivery thread could be made, the result is delivered on the
     * calling (pool) thread rather than lost; the pool task that finished the
     * request then ends normally.
     */
    @Test
    void shouldDeliverOnTheCallingThreadWhenNoDeliveryThreadCanBeMade() {
        AtomicInteger delivered = new AtomicInteger();
        Thread caller = Thread.currentThread();
        Thread[] ranOn = new Thread[1];
        DeliveryThreads.deliver(task -> {
            throw new Error("test: unable to create native thread"); // not an OOM: fatal to JUnit's run
        }, () -> {
            delivered.incrementAndGet();
            ranOn[0] = Thread.currentThread();
        });
        assertThat(delivered.get()).as("deliveries").isEqualTo(1);
        assertThat(ranOn[0]).as("the thread it was delivered on").isSameAs(caller);
    }
}
