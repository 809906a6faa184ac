package dev.panaio.internal.context;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Lets one thread at a time into a context, re-entrantly, and closes it
 * safely from any thread.
 *
 * <p>{@link #enter()} takes {@code busy} with a compare-and-set (which also
 * detects a second thread) and {@link #exit()} gives it back with a release
 * store. {@code busy} and {@code closing} form a Dekker pair: enter() takes
 * busy, then reads closing; close() sets closing, then reads busy. Both are
 * sequentially consistent, so either the owner sees the close and backs out,
 * or close() sees the owner and waits for it. A close() from the owner thread
 * itself (a completion handler) defers the teardown to the outermost exit().
 *
 * <p>Thread-safety: enter and exit on the owner thread; close and isClosed
 * from any thread.
 */
public final class OwnerGuard {
    /** 1 while a thread is inside one of the context's calls. */
    private final AtomicInteger busy = new AtomicInteger();
    /** Set once by close(). */
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Wakes the owner if it waits in the kernel, so that it leaves its call. */
    private final Runnable wakeOwner;
    /** Releases the context; runs once, with no thread inside it. */
    private final Runnable teardown;

    private Thread owner;
    private int depth;
    private boolean teardownDeferred;

    /** A guard that runs {@code wakeOwner}, then {@code teardown} once, when closed. */
    public OwnerGuard(Runnable wakeOwner, Runnable teardown) {
        this.wakeOwner = wakeOwner;
        this.teardown = teardown;
    }

    /**
     * Enters a call: the owner thread again (a handler calling back), or a
     * thread that finds the context free.
     *
     * @throws IllegalStateException if the context is closed or another thread is inside it
     */
    public void enter() {
        Thread current = Thread.currentThread();
        if (owner == current) {
            if (isClosed()) {
                throw closedException();
            }
            depth++;
            return;
        }
        if (!busy.compareAndSet(0, 1)) {
            if (isClosed()) {
                throw closedException();
            }
            throw new IllegalStateException("AioContext is in use by another thread: a context is used by one "
                    + "thread at a time (the kernel allows one reaper per ring)");
        }
        if (isClosed()) {
            busy.set(0);
            throw closedException();
        }
        owner = current;
        depth = 1;
    }

    /** Leaves a call; the outermost exit runs a teardown that close() deferred to it. */
    public void exit() {
        if (--depth > 0) {
            return;
        }
        owner = null;
        boolean deferred = teardownDeferred;
        busy.setRelease(0);
        if (deferred) {
            runTeardown();
        }
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closing.get();
    }

    /**
     * Closes: wakes the owner, waits for it to leave its call, then tears
     * down. Idempotent; a second close() returns once the first one's
     * teardown is done. From the owner thread, the teardown runs when its
     * outermost call returns.
     */
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            if (owner != Thread.currentThread()) {
                awaitTeardown();
            }
            return;
        }
        if (owner == Thread.currentThread()) {
            teardownDeferred = true; // we are inside one of our own calls: exit() finishes the job
            return;
        }
        wakeOwner.run();
        while (busy.get() != 0) {
            LockSupport.parkNanos(10_000);
        }
        runTeardown();
    }

    private void runTeardown() {
        try {
            teardown.run();
        } finally {
            closed.countDown();
        }
    }

    private void awaitTeardown() {
        boolean interrupted = false;
        for (;;) {
            try {
                closed.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The exception for a call on a closed context. */
    public static IllegalStateException closedException() {
        return new IllegalStateException("AioContext is closed");
    }
}
