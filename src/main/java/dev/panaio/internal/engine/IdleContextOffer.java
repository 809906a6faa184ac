package dev.panaio.internal.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * An engine loop's offer of its context to the one caller while the loop is
 * idle, and the baton that says who may touch the context and the loop's slot
 * bookkeeping.
 *
 * <p>The engine thread holds the baton ({@code ENGINE}) while awake. It
 * offers it ({@code IDLE}) only while it sleeps with nothing queued or in
 * flight, after a busy period in which it never had more than one request
 * outstanding; at most one submitter takes the offer with a compare-and-set
 * ({@code CALLER}), prepares and submits its own request, and gives the baton
 * back to the engine as soon as io_submit returns, so the next request of a
 * second thread goes through the queue. On waking, the engine thread waits for
 * a submitter still inside io_submit before it touches the context. The
 * baton's volatile writes and compare-and-sets order each holder's plain
 * writes before the next holder's reads.
 *
 * <p>Thread-safety: {@link #tryTake}, {@link #giveBack}, {@link #callerFailed}
 * and {@link #countCallerSubmit} from a submitter; {@link #isOffered} and
 * {@link #callerSubmits} from any thread; everything else on the engine thread.
 */
final class IdleContextOffer {
    /** The engine thread holds the context (awake, or asleep with no offer). */
    private static final int ENGINE = 0;
    /** Offered: the engine thread sleeps with nothing queued or in flight. */
    private static final int IDLE = 1;
    /** A submitter is preparing and submitting its own request. */
    private static final int CALLER = 2;
    /** Spins of a waking engine thread on a submitter inside io_submit before it yields instead. */
    private static final int SPINS = 1_000;
    /** Yields after the spins, before it parks: a submitter descheduled inside io_submit may take a while. */
    private static final int YIELDS = 100;
    /** Each park once spins and yields are spent: short, as the submitter gives the baton back without a signal. */
    private static final long PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    private final AtomicInteger baton = new AtomicInteger(ENGINE);
    /** Most requests outstanding at once since the loop was last idle. Engine thread only. */
    private int peakOutstanding;
    /** Whether the last busy period had at most one request outstanding: the idle loop offers. Engine thread only. */
    private boolean offerWhenIdle = true;
    /** What broke the context under a submitter that held the baton: the engine thread rethrows it. */
    private volatile Throwable callerFailure;
    /** Requests their submitter prepared and submitted itself, the loop being idle. */
    private final LongAdder callerSubmits = new LongAdder();

    /** Whether the context is offered to the next submitter now (a snapshot). */
    boolean isOffered() {
        return baton.get() == IDLE;
    }

    /** Whether the calling submitter won the offer; if so it must {@link #giveBack} once io_submit returns. */
    boolean tryTake() {
        return baton.compareAndSet(IDLE, CALLER);
    }

    /** Back to the engine, asleep or not: the next request is queued until it offers again. */
    void giveBack() {
        baton.set(ENGINE);
    }

    /** The context broke under the submitter holding the baton: the engine thread rethrows it on waking. */
    void callerFailed(Throwable failure) {
        callerFailure = failure;
    }

    /** One more request its submitter prepared and submitted itself. */
    void countCallerSubmit() {
        callerSubmits.increment();
    }

    /** Requests their submitter prepared and submitted itself, on an idle loop. */
    long callerSubmits() {
        return callerSubmits.sum();
    }

    /** Records how many requests are outstanding now, for the offer at the end of this busy period. */
    void noteOutstanding(int outstanding) {
        peakOutstanding = Math.max(peakOutstanding, outstanding);
    }

    /**
     * Offers the context to the next submitter when {@code idle} (nothing
     * queued or in flight), unless the busy period now ending ever had more
     * than one request outstanding: then requests are coming from several
     * threads at once, and their submitters stay out of io_submit.
     */
    void offerIfIdle(boolean idle) {
        if (!idle) {
            return;
        }
        if (peakOutstanding > 0) {
            // A wake-up that found nothing to do (a count left in the eventfd) ends no busy period.
            offerWhenIdle = peakOutstanding <= 1;
            peakOutstanding = 0;
        }
        if (offerWhenIdle) {
            baton.set(IDLE);
        }
    }

    /**
     * Takes the baton back for the waking engine thread, waiting for a
     * submitter inside io_submit (a few microseconds) to give it back; then
     * rethrows what broke the context under that submitter, if anything did.
     */
    void takeBack() throws Throwable {
        takeBackQuietly();
        Throwable failure = callerFailure;
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * As {@link #takeBack}, on the fatal path, where a second failure is only
     * reported. Spins, then yields, then parks briefly: a submitter holding
     * the baton gives it back in its {@code finally} without waking anyone.
     */
    void takeBackQuietly() {
        int waits = 0;
        for (;;) {
            int holder = baton.get();
            if (holder == ENGINE || (holder == IDLE && baton.compareAndSet(IDLE, ENGINE))) {
                return;
            }
            if (waits < SPINS) {
                waits++;
                Thread.onSpinWait();
            } else if (waits < SPINS + YIELDS) {
                waits++;
                Thread.yield();
            } else {
                LockSupport.parkNanos(PARK_NANOS);
            }
        }
    }

    /** Whether the engine thread holds the baton now. */
    boolean engineHolds() {
        return baton.get() == ENGINE;
    }
}
