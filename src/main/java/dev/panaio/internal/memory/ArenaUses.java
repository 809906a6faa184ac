package dev.panaio.internal.memory;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The lifetime of a panaio-owned arena: how many requests use its memory, and
 * whether it is closed, in one lock-free state word ({@code uses * 2 | CLOSED},
 * as {@link dev.panaio.internal.sys.FileDescriptorHandle} counts descriptor
 * uses). A request takes a use when its memory is handed over and gives it
 * back once its completion is delivered; the arena can be closed, and its
 * memory freed, only with no use held. So the kernel never writes into memory
 * of a closed arena, and a caller's {@code close()} while a request is in
 * flight throws, as the JDK's {@code arena.close()} does while a JDK channel
 * holds its session.
 *
 * <p>Thread-safe: one atomic operation per acquire and per release.
 */
public final class ArenaUses {
    private static final int CLOSED = 1;
    private static final int USE = 2;

    private final AtomicInteger state = new AtomicInteger();
    private final String owner;

    /** The uses of an arena that {@code owner} names in messages ("AioArena"). */
    public ArenaUses(String owner) {
        this.owner = owner;
    }

    /**
     * Takes a use for one request.
     *
     * @throws IllegalStateException if the arena is closed
     */
    public void acquire() {
        int s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException("the buffer's " + owner + " is already closed");
            }
            if (s == Integer.MAX_VALUE - 1) {
                throw new IllegalStateException("too many requests in flight on one " + owner);
            }
        } while (!state.compareAndSet(s, s + USE));
    }

    /** Gives back a use taken by {@link #acquire()}, once the kernel is done with the memory. */
    public void release() {
        state.addAndGet(-USE);
    }

    /** Requests holding a use now. */
    public int inFlight() {
        return state.get() >>> 1;
    }

    /** Whether {@link #close()} has succeeded. */
    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * Marks the arena closed when no request holds a use; later acquires throw.
     *
     * @throws IllegalStateException if it is closed already, or requests on its memory are in flight (naming
     *                               how many)
     */
    public void close() {
        int s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException("Already closed");
            }
            if (s != 0) {
                int uses = s >>> 1;
                throw new IllegalStateException(String.format(Locale.ROOT,
                        "%s cannot be closed: %d request%s on its memory %s in flight; close it once %s completed",
                        owner, uses, uses == 1 ? "" : "s", uses == 1 ? "is" : "are", uses == 1 ? "it has"
                                : "they have"));
            }
        } while (!state.compareAndSet(0, CLOSED));
    }

    /** Undoes a {@link #close()} whose freeing failed (the JDK still held the memory's session). */
    public void reopen() {
        state.compareAndSet(CLOSED, 0);
    }
}
