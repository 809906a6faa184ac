package dev.panaio.internal.engine;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The virtual threads an engine thread's reap finished the waits of, woken
 * together once the reap is over: the first is unparked by the engine
 * thread, and it unparks the others as it runs on its carrier.
 *
 * <p>Unparked one by one from the engine thread, each virtual thread is an
 * external submission to the virtual-thread scheduler, which wakes an idle
 * carrier; the kernel often places that carrier on the engine thread's CPU,
 * where it preempts the engine thread at once, runs the one virtual thread there is
 * for it, and parks; the next unpark does the same. The engine thread and a
 * carrier then take turns, one completion each, while the other CPU idles
 * (docs/BENCHMARKS.md, thirteenth run). Unparked from a carrier, the others
 * are queued on that carrier and cost no such turn.
 *
 * <p>The relay never holds a wake-up back beyond the first waiter's own: a
 * waiter that is not parked in its wait (it has not reached it yet, or has
 * already left it) refuses the others, and the engine thread unparks them
 * itself.
 *
 * <p>Thread-safety: an instance belongs to one engine thread;
 * {@link #relayed} from any thread.
 */
public final class RelayedWakes {
    /** One wait, of a virtual thread, that an engine thread finished. */
    public interface Waiter {
        /** The waiting virtual thread. */
        Thread thread();

        /**
         * Gives this waiter, parked in its wait, the threads to unpark once
         * it has left the wait: the waiter must unpark every one of them.
         *
         * @param others the threads to unpark
         * @return false if the waiter is not parked in its wait (the caller
         *         unparks them)
         */
        boolean relay(Thread[] others);
    }

    /** Waiters held at most before they are woken, reap or not: a bound on the array, not a tuning knob. */
    private static final int CAPACITY = 64;

    /** Wake-ups a first waiter took over, of every engine thread: what the tests see of the relay. */
    private static final LongAdder RELAYED = new LongAdder();

    private final Waiter[] held = new Waiter[CAPACITY];
    private int count;

    /** Wake-ups that first waiters took over so far, in this process. */
    static long relayed() {
        return RELAYED.sum();
    }

    /** Holds {@code waiter} until {@link #wakeAll}. */
    void add(Waiter waiter) {
        if (count == CAPACITY) {
            wakeAll();
        }
        held[count++] = waiter;
    }

    /** Wakes what {@link #add} held: the first unparked here, the others relayed by it (or unparked here). */
    void wakeAll() {
        int n = count;
        if (n == 0) {
            return;
        }
        Thread[] others = n > 1 ? new Thread[n - 1] : null; // a failure here leaves every waiter held
        count = 0;
        Waiter first = held[0];
        if (others != null) {
            for (int i = 1; i < n; i++) {
                others[i - 1] = held[i].thread();
            }
            if (first.relay(others)) {
                RELAYED.add(others.length);
            } else {
                for (Thread t : others) {
                    LockSupport.unpark(t);
                }
            }
        }
        LockSupport.unpark(first.thread());
        Arrays.fill(held, 0, n, null);
    }
}
