package dev.panaio.internal.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class BlockingPoolTest {

    /**
     * A task left in the queue with no thread to run it (every thread timed
     * out while the pool could make none for it): the engine's close must
     * still run it and return, not wait for ever for a pool that, shut down,
     * starts no thread by itself.
     */
    @Test
    void shouldRunATaskLeftInTheQueueWithNoThreadWhenShutDown() throws Exception {
        BlockingPool pool = new BlockingPool(1);
        ThreadPoolExecutor executor = (ThreadPoolExecutor) pool.executor();
        CountDownLatch ran = new CountDownLatch(1);
        executor.getQueue().add(ran::countDown); // queued, as execute does, but with no thread started for it
        assertThat(executor.getPoolSize()).as("threads").isZero();
        pool.refuseNew();
        Thread closer = Thread.ofPlatform().daemon().start(pool::shutdown);
        closer.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(closer.isAlive()).as("shutdown still waiting after 30 s").isFalse();
        assertThat(ran.getCount()).as("the queued task's runs still to come").isZero();
        assertThat(executor.isTerminated()).isTrue();
    }

    /**
     * A thread inside the queue's {@code remove}, held in the {@code equals}
     * the queue calls on each element, stands for any thread stopped while
     * it is inside the queue (preempted, on a busy machine): a queue that
     * guards itself with a lock holds it there, and a hand-off behind it
     * waits as long.
     */
    @Test
    void shouldTakeATaskWhileAnotherThreadIsStoppedInsideTheQueue() throws Exception {
        BlockingPool pool = new BlockingPool(1);
        ThreadPoolExecutor executor = (ThreadPoolExecutor) pool.executor();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        Thread holder = null;
        try {
            executor.execute(() -> {
                running.countDown();
                awaitQuietly(release);
            });
            assertThat(running.await(30, TimeUnit.SECONDS)).as("the pool's one thread is busy").isTrue();
            executor.execute(() -> { }); // queued behind it, so that remove has an element to compare
            Object stopper = new Object() {
                @Override
                public boolean equals(Object other) {
                    inside.countDown();
                    awaitQuietly(letGo);
                    return false;
                }

                @Override
                public int hashCode() {
                    return 0;
                }
            };
            holder = Thread.ofPlatform().start(() -> executor.getQueue().remove(stopper));
            assertThat(inside.await(30, TimeUnit.SECONDS)).as("a thread stopped inside the queue").isTrue();

            CompletableFuture<Void> handedOver = CompletableFuture.runAsync(() -> executor.execute(() -> { }),
                    runnable -> Thread.ofPlatform().start(runnable));
            // Returns at once when the hand-off waits for nobody; behind a lock it waits until letGo.
            handedOver.get(30, TimeUnit.SECONDS);
            assertThat(executor.getQueue()).as("tasks queued behind the busy thread").hasSize(2);
        } finally {
            letGo.countDown();
            release.countDown();
            if (holder != null) {
                holder.join();
            }
            pool.shutdown();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
