package dev.panaio.internal.channel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One channel's requests that the kernel is working on, and the close that
 * waits for them, as the JDK's channels wait for a thread inside pread or
 * pwrite. A request is counted from just before it is prepared for
 * io_submit (or before a pool thread starts its system call) until its
 * result is back: never while it waits in the engine's queue for a slot, so
 * a close cannot wait for a request that waits for nothing but room.
 *
 * <p>Once {@link #closeAndAwait} has begun, nothing more is counted in:
 * {@link #enter()} answers false and the request fails with
 * {@code AsynchronousCloseException}, as one queued behind the close does
 * today. The count and the closed bit share one word, so a request either
 * enters before the close looks (and is waited for) or sees the close.
 *
 * <p>The cost is one compare-and-set when a request enters and one atomic add
 * when it leaves, only on the paths that reach the kernel's AIO or the
 * blocking pool, and for a platform thread's own {@code pread} or
 * {@code pwrite} through the blocking channel; a page-cache read with
 * {@code RWF_NOWAIT} on the calling thread is not counted.
 *
 * <p>Thread-safe.
 */
public final class KernelRequests {
    private static final int CLOSED = 1;
    private static final int ONE = 2;

    /** {@code count * ONE | CLOSED}. */
    private final AtomicInteger state = new AtomicInteger();
    /** The thread in {@link #closeAndAwait}, written before the closed bit so that the last leaver sees it. */
    private volatile Thread closer;

    /** Counts a request in; false once the close has begun, and then it must not reach the kernel. */
    boolean enter() {
        for (;;) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s + ONE)) {
                return true;
            }
        }
    }

    /** Counts a request out: its result is back, and the kernel has finished with its memory. */
    void leave() {
        if (state.addAndGet(-ONE) == CLOSED) {
            Thread waiting = closer;
            if (waiting != null) {
                LockSupport.unpark(waiting);
            }
        }
    }

    /** Requests counted in now (a snapshot, for tests and monitoring). */
    public int inKernel() {
        return state.get() >>> 1;
    }

    /**
     * Stops counting requests in and, when {@code wait}, parks until the
     * last one counted has left. Interrupts do not end the wait, as they do
     * not end the JDK's ({@code NativeThreadSet.signalAndWait}, the close
     * lock's {@code lock()}): a file read in flight cannot be stopped, so
     * there is nothing an interrupt could shorten. The interrupt status is
     * kept. Called once per channel.
     *
     * @param wait false on a thread that the requests' completions need (an
     *             engine thread): the close then only stops new ones
     */
    public void closeAndAwait(boolean wait) {
        closer = Thread.currentThread();
        state.getAndUpdate(s -> s | CLOSED);
        if (!wait) {
            return;
        }
        boolean interrupted = false;
        while (state.get() != CLOSED) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
