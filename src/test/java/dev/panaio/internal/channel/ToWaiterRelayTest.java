package dev.panaio.internal.channel;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ChannelCompletion.ToWaiter} as the first waiter of a relay
 * ({@code RelayedWakes}): it takes the others only while it waits in
 * {@code await}, and unparks every one of them as it leaves.
 */
class ToWaiterRelayTest {

    @Test
    void shouldTakeOthersOnlyWhileWaitingAndUnparkThemAsItLeaves() throws Exception {
        CountDownLatch otherWoken = new CountDownLatch(1);
        Thread other = Thread.ofVirtual().start(() -> {
            LockSupport.park();
            otherWoken.countDown();
        });
        CompletableFuture<ChannelCompletion.ToWaiter> made = new CompletableFuture<>();
        CountDownLatch mayWait = new CountDownLatch(1);
        CompletableFuture<Long> awaited = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            var op = new ChannelCompletion.ToWaiter();
            made.complete(op);
            try {
                mayWait.await();
                awaited.complete(op.await());
            } catch (Throwable t) {
                awaited.completeExceptionally(t);
            }
        });
        ChannelCompletion.ToWaiter op = made.get(10, TimeUnit.SECONDS);
        assertThat(op.relay(new Thread[] {other})).as("taken before the waiter waits").isFalse();

        mayWait.countDown();
        while (!parkedInAwait(waiter)) {
            Thread.sleep(1);
        }
        assertThat(op.relay(new Thread[] {other})).as("taken while the waiter waits").isTrue();
        assertThat(otherWoken.getCount()).as("unparked before the waiter left").isEqualTo(1);

        op.finish(0); // not an engine thread: the waiter is unparked here
        assertThat(awaited.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(otherWoken.await(10, TimeUnit.SECONDS)).as("unparked by the leaving waiter").isTrue();
        assertThat(op.relay(new Thread[] {other})).as("taken after the waiter left").isFalse();
    }

    /** Whether {@code thread} is parked inside {@code ToWaiter.await}, not on the latch before it. */
    private static boolean parkedInAwait(Thread thread) {
        if (thread.getState() != Thread.State.WAITING) {
            return false;
        }
        for (StackTraceElement frame : thread.getStackTrace()) {
            if (frame.getMethodName().equals("await") && frame.getClassName().endsWith("ToWaiter")) {
                return true;
            }
        }
        return false;
    }
}
