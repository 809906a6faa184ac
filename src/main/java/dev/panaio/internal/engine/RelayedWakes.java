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
 * carrier. Those carriers preempted the engine thread thousands of times a
 * second, a carrier running next on its CPU nearly every time; by inference
 * from those records, each ran the virtual thread there was for it and
 * parked, and the next unpark did the same (docs/BENCHMARKS.md, thirteenth
 * run). Unparked from a carrier, the others are queued on that carrier and
 * cost the engine thread no such turn.
 *
 * <p>The relay never holds a wake-up back beyond the first waiter's own: a
 * waiter that is not parked in its wait (it has not reached it yet, or has
 * already left it) refuses the others, and the engine thread unparks them
 * itself. Only a reap's wake-ups are held, and the reap's end wakes them
 * whatever it throws; a wait finished anywhere else on an engine thread (a
 * request failed before it reached the kernel, a handler run in place) is
 * unparked at once, so no wake-up is held where nothing would release it.
 * Within a reap, what is held is woken before any caller code runs there (a
 * future's dependents, a handler on the engine thread), which might wait for
 * one of those threads. A thread that cannot be woken is reported, and the
 * others are still woken.
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
    /** Whether a reap is running, between {@link #holdDuringReap} and {@link #wakeAll}: only then are waiters held. */
    private boolean holding;

    /** Wake-ups that first waiters took over so far, in this process. */
    static long relayed() {
        return RELAYED.sum();
    }

    /** From now until {@link #wakeAll}, {@link #add} holds waiters: the engine thread is about to reap. */
    void holdDuringReap() {
        holding = true;
    }

    /**
     * Holds {@code waiter} until {@link #wakeAll}, if a reap is running.
     *
     * @return false outside a reap: nothing is held, and the caller unparks the waiter itself, so that a
     *         waiter finished anywhere else (a request failed before it reached the kernel, a handler run in
     *         place) is never held where no {@code wakeAll} follows
     */
    boolean add(Waiter waiter) {
        if (!holding) {
            return false;
        }
        if (count == CAPACITY) {
            wakeAll();
            holding = true;
        }
        held[count++] = waiter;
        return true;
    }

    /**
     * Wakes what {@link #add} held and ends the holding: the first waiter
     * unparked here and the others relayed by it, or, if it refuses them
     * (or the relay cannot be made), every one unparked here. A failure to
     * wake one thread is reported and the others are still woken.
     */
    void wakeAll() {
        holding = false;
        int n = count;
        if (n == 0) {
            return;
        }
        count = 0;
        try {
            boolean firstWakesTheOthers = n > 1 && relayed(n);
            boolean firstWoken = unpark(held[0]);
            if (!firstWakesTheOthers || !firstWoken) {
                // Also when the first took them but cannot be woken: woken twice, a thread only finds its next
                // park return at once, where a wake-up left to a thread still parked would never come.
                for (int i = 1; i < n; i++) {
                    unpark(held[i]);
                }
            }
        } finally {
            Arrays.fill(held, 0, n, null);
        }
    }

    /**
     * Wakes what is held now and goes on holding: code of the caller's (a
     * future's dependents, a handler run on the engine thread) is about to
     * run in this reap, and may wait for one of these threads.
     */
    void wakeBeforeCallerCode() {
        if (count > 0) {
            wakeAll();
            holding = true;
        }
    }

    /** Whether the first of the {@code n} held waiters took over the others. */
    private boolean relayed(int n) {
        try {
            Thread[] others = new Thread[n - 1];
            for (int i = 1; i < n; i++) {
                others[i - 1] = held[i].thread();
            }
            if (!held[0].relay(others)) {
                return false;
            }
            RELAYED.add(n - 1);
            return true;
        } catch (Throwable t) {
            // No relay, or one that may have been taken: then the others are unparked twice, which costs each
            // a park that returns at once, where a relay left unmade would cost them their wake-up.
            UncaughtExceptions.report(t);
            return false;
        }
    }

    /** Unparks {@code waiter}'s thread; false, with the failure reported, if that threw. */
    private static boolean unpark(Waiter waiter) {
        try {
            LockSupport.unpark(waiter.thread());
            return true;
        } catch (Throwable t) {
            UncaughtExceptions.report(t);
            return false;
        }
    }
}
