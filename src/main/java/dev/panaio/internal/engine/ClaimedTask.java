package dev.panaio.internal.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A task handed to an executor that may throw after it queued the task: a
 * {@code ThreadPoolExecutor} whose threads time out can queue it and then
 * fail to make the thread for its queue. Whoever claims the task first
 * does its work, once: the executor's thread that runs it, or the hand-off
 * that saw the throw and fails the task's requests (or runs it in place).
 * A task run after the hand-off claimed it does nothing.
 *
 * <p>Thread-safe.
 */
public abstract class ClaimedTask implements Runnable {
    private static final VarHandle CLAIMED;

    static {
        try {
            CLAIMED = MethodHandles.lookup().findVarHandle(ClaimedTask.class, "claimed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through CLAIMED
    private volatile boolean claimed;

    /** Whether the caller is the one to finish the task. True once only. */
    public final boolean claim() {
        return CLAIMED.compareAndSet(this, false, true);
    }

    /** Runs {@link #runClaimed} unless the task was claimed already. */
    @Override
    public final void run() {
        if (claim()) {
            runClaimed();
        }
    }

    /** The task's work, run at most once, by the executor's thread that claimed it. */
    protected abstract void runClaimed();
}
