package dev.panaio.internal.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A counter with one writer thread, read by any thread: the writer adds with
 * a plain read of its own last value and a {@code setRelease} of the sum (a
 * plain store on x86, no lock, no CAS, no allocation); readers take it with
 * {@code getAcquire}. So a reader sees a value the writer published, and the
 * counts it reads from one writer never go backwards.
 *
 * <p>Thread-safety: {@link #add} and {@link #increment} only from the one
 * thread that owns the counter (an engine thread, the thread that owns an
 * {@code AioContext}); {@link #get} from any thread.
 */
public final class PublishedCounter {
    private static final VarHandle VALUE;

    static {
        try {
            VALUE = MethodHandles.lookup().findVarHandle(PublishedCounter.class, "value", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through VALUE
    private long value;

    /** Adds one; owner thread only. */
    public void increment() {
        VALUE.setRelease(this, value + 1);
    }

    /** Adds {@code n}; owner thread only. */
    public void add(long n) {
        VALUE.setRelease(this, value + n);
    }

    /** The last value the owner published; any thread. */
    public long get() {
        return (long) VALUE.getAcquire(this);
    }
}
