package dev.panaio.internal.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.BooleanSupplier;

/**
 * The wake-ups of sleeping engine loops, and the starts of blocking-pool
 * tasks, that one thread holds back while it runs a CompletionHandler on the
 * default pool, sent when the handler returns.
 *
 * <p>A handler that starts a read wakes the sleeping engine thread, which on
 * a busy CPU then preempts the handler in the middle of its call: the caller
 * waits for the whole of the engine's turn, and each completion costs two
 * thread switches (docs/BENCHMARKS.md, sixth run). Held back until the
 * handler returns, one wake-up carries every request the handler started.
 * A handler that waits for what it started (a future's {@code get}) is not
 * left waiting: the handler watcher, which looks at a thread holding
 * wake-ups every period, sends them once the same handler has run a
 * whole period ({@link #release} from its thread).
 *
 * <p>A read that missed the page cache, and a buffered write that is queued,
 * go to a blocking pool's thread instead of the engine: starting that
 * thread's task wakes it, and it preempts the handler in the same way. The
 * start is held back the same way ({@link #heldStart}); a start that throws
 * at the release is reported and does not keep the others from running.
 *
 * <p>Only for requests whose result calls a handler back
 * ({@link CompletionSink#submitterMayWait()} false): a caller that parks for
 * its result, or may wait on a future, wakes the engine at once.
 *
 * <p>Thread-safe: {@link #hold} from the owning thread; {@link #release}
 * from it or the watcher.
 */
public final class HeldSignals {
    private static final ThreadLocal<HeldSignals> PER_THREAD = new ThreadLocal<>();

    /**
     * Asked once a first wake-up is held since the last release: has the
     * watcher look at this thread, and says whether it will (false: its
     * thread could not start).
     */
    private final BooleanSupplier onFirstHeld;
    /**
     * Set by the owner in {@link #hold}; cleared by {@link #release}, by the
     * owner or the watcher, under this lock when wake-ups wait and without it
     * when none do (a watcher's clear that races the owner's next hold only
     * ends that hold early).
     */
    private volatile boolean holding;
    private static final VarHandle HOLDING;

    static {
        try {
            HOLDING = MethodHandles.lookup().findVarHandle(HeldSignals.class, "holding", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The loops whose wake-ups wait, without repeats, and the task starts that wait, in order. Guarded by this. */
    private Object[] held = new Object[2];
    /** Written under this lock; read without it by {@link #release}'s look for nothing to send. */
    private volatile int count;

    private HeldSignals(BooleanSupplier onFirstHeld) {
        this.onFirstHeld = onFirstHeld;
    }

    /** This thread's holder, made on first use with {@code onFirstHeld}. */
    public static HeldSignals forThisThread(BooleanSupplier onFirstHeld) {
        HeldSignals self = PER_THREAD.get();
        if (self == null) {
            self = new HeldSignals(onFirstHeld);
            PER_THREAD.set(self);
        }
        return self;
    }

    /**
     * From now until {@link #release}, this thread's wake-ups of sleeping
     * engine loops for requests that call a handler back wait. Owner only.
     */
    public void hold() {
        // A release store, not a volatile one (a full fence per handler): only this thread reads it, in held().
        HOLDING.setRelease(this, true);
    }

    /**
     * Stops holding, wakes each loop whose wake-up waited, if it still
     * sleeps, and runs each task start that waited. Without a lock when
     * nothing waits, as after most handlers: only the owner adds wake-ups and
     * starts, so it cannot miss one of its own.
     */
    public void release() {
        if (count == 0) {
            HOLDING.setRelease(this, false); // as in hold(): read by the owner alone
            return;
        }
        Object first;
        Object[] others = null; // copied out only when more than one waits: most handlers hold one wake-up
        synchronized (this) {
            holding = false;
            int n = count;
            if (n == 0) {
                return;
            }
            first = held[0];
            if (n > 1) {
                others = java.util.Arrays.copyOfRange(held, 1, n);
            }
            java.util.Arrays.fill(held, 0, n, null);
            count = 0;
        }
        send(first); // outside the lock, in order
        if (others != null) {
            for (Object item : others) {
                send(item);
            }
        }
    }

    /** Wakes a held loop, if it still sleeps, or runs a held task start. */
    private static void send(Object item) {
        try {
            if (item instanceof EngineLoop loop) {
                loop.wakeIfAsleep();
            } else {
                ((Runnable) item).run();
            }
        } catch (Throwable t) { // an Error delivering a refused task's failure, say: the others are sent all the same
            UncaughtExceptions.report(t);
        }
    }

    /** Stops holding and sends what is held, except {@code item}, which its caller sends itself. */
    private void release(Object item) {
        synchronized (this) {
            for (int i = 0; i < count; i++) {
                if (held[i] == item) {
                    System.arraycopy(held, i + 1, held, i, count - i - 1);
                    held[--count] = null;
                    break;
                }
            }
        }
        release();
    }

    /** Whether a wake-up or a task start waits to be sent. */
    public boolean hasHeldWakeups() {
        return count > 0;
    }

    /**
     * Holds back the wake-up of {@code loop} if the calling thread holds its
     * wake-ups now.
     *
     * @return false when it does not: the caller wakes the loop itself
     */
    static boolean held(EngineLoop loop) {
        return hold(loop);
    }

    /**
     * Holds back {@code start}, which hands a task to a blocking pool and
     * never throws, if the calling thread holds its wake-ups now; it then
     * runs on release, on this thread or the watcher's.
     *
     * @return false when it does not: the caller runs {@code start} itself
     */
    public static boolean heldStart(Runnable start) {
        return hold(start);
    }

    /** Holds {@code item}, a loop (once) or a task start, if this thread holds its wake-ups now. */
    private static boolean hold(Object item) {
        HeldSignals self = PER_THREAD.get();
        if (self == null) {
            return false;
        }
        boolean first;
        synchronized (self) {
            if (!self.holding) {
                return false;
            }
            if (item instanceof EngineLoop) {
                for (int i = 0; i < self.count; i++) {
                    if (self.held[i] == item) {
                        return true;
                    }
                }
            }
            if (self.count == self.held.length) {
                self.held = java.util.Arrays.copyOf(self.held, self.count * 2);
            }
            first = self.count == 0;
            self.held[self.count++] = item;
        }
        if (first) {
            boolean watched;
            try {
                watched = self.onFirstHeld.getAsBoolean();
            } catch (Throwable t) { // out of memory for the watcher's list, say
                UncaughtExceptions.report(t);
                watched = false;
            }
            if (!watched) { // nothing would send it if the handler ran long: the caller sends it itself
                self.release(item);
                return false;
            }
        }
        return true;
    }
}
