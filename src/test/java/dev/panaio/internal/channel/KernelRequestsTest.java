package dev.panaio.internal.channel;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A channel's count of requests in the kernel, on its own: what its close
 * waits for, and what it refuses once the close has begun. (The channels'
 * close, with requests really held in the kernel, is CloseDuringKernelReadTest's.)
 */
class KernelRequestsTest {
    /** How long a wait may take before the test calls it hung. */
    private static final int HANG_SECONDS = 10;
    /** How long a close that must wait is watched for returning early: not a bound on anything. */
    private static final int WATCH_MILLIS = 200;

    @Test
    void shouldCountRequestsInAndOut() {
        KernelRequests requests = new KernelRequests();
        assertThat(requests.enter()).isTrue();
        assertThat(requests.enter()).isTrue();
        assertThat(requests.inKernel()).isEqualTo(2);
        requests.leave();
        requests.leave();
        assertThat(requests.inKernel()).isZero();
    }

    @Test
    void shouldRefuseRequestsOnceTheCloseHasBegunAndReturnAtOnceWithNoneIn() {
        KernelRequests requests = new KernelRequests();
        requests.closeAndAwait(true); // nothing counted in: returns at once
        assertThat(requests.enter()).as("a request after the close began").isFalse();
        assertThat(requests.inKernel()).isZero();
    }

    @Test
    void shouldWaitForTheLastRequestInAndNotEndTheWaitOnAnInterrupt() throws Exception {
        KernelRequests requests = new KernelRequests();
        assertThat(requests.enter()).isTrue();
        assertThat(requests.enter()).isTrue();
        CountDownLatch returned = new CountDownLatch(1);
        AtomicBoolean interruptKept = new AtomicBoolean();
        Thread closer = Thread.ofPlatform().start(() -> {
            requests.closeAndAwait(true);
            interruptKept.set(Thread.currentThread().isInterrupted());
            returned.countDown();
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
        while (closer.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(closer.getState()).as("the closer, parked for the requests in").isEqualTo(Thread.State.WAITING);
        assertThat(requests.enter()).as("a request after the close began").isFalse();
        closer.interrupt();
        requests.leave();
        // Not a bound on anything: the close returning with a request still in is the failure.
        assertThat(returned.await(WATCH_MILLIS, TimeUnit.MILLISECONDS))
                .as("close returned with one request still in, or on the interrupt").isFalse();
        requests.leave();
        assertThat(returned.await(HANG_SECONDS, TimeUnit.SECONDS)).as("close once the last request left").isTrue();
        assertThat(interruptKept).as("the closer's interrupt status, kept").isTrue();
    }

    @Test
    void shouldNotWaitWhenTheCloserMustNot() {
        KernelRequests requests = new KernelRequests();
        assertThat(requests.enter()).isTrue();
        requests.closeAndAwait(false); // an engine thread: the completion it would wait for may be its own
        assertThat(requests.enter()).isFalse();
        assertThat(requests.inKernel()).isEqualTo(1);
        requests.leave();
        assertThat(requests.inKernel()).isZero();
    }
}
