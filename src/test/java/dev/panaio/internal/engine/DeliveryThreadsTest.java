package dev.panaio.internal.engine;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class DeliveryThreadsTest {

    /**
     * Where no delivery thread could be made, the result is delivered on a
     * virtual thread rather than lost (or run on the pool thread, which caller
     * code could hold), and the failure is reported.
     */
    @Test
    void shouldDeliverOnAVirtualThreadWhenNoDeliveryThreadCanBeMade() throws Exception {
        AtomicInteger delivered = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        Thread[] ranOn = new Thread[1];
        Error noThread = new Error("test: unable to create native thread"); // not an OOM: fatal to JUnit's run
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler before = Thread.currentThread().getUncaughtExceptionHandler();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            DeliveryThreads.deliver(task -> {
                throw noThread;
            }, () -> {
                delivered.incrementAndGet();
                ranOn[0] = Thread.currentThread();
                done.countDown();
            });
        } finally {
            Thread.currentThread().setUncaughtExceptionHandler(before);
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).as("delivered within 30 s").isTrue();
        assertThat(delivered.get()).as("deliveries").isEqualTo(1);
        assertThat(ranOn[0].isVirtual()).as("delivered on a virtual thread: %s", ranOn[0]).isTrue();
        assertThat(reported).as("failures reported").containsExactly(noThread);
    }
}
