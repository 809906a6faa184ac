package dev.panaio.internal.context;

import dev.panaio.CompletionConsumer;
import dev.panaio.internal.gen.aio_abi.__kernel_timespec;
import dev.panaio.internal.gen.aio_abi.io_event;
import dev.panaio.internal.ring.CompletionRing;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The completion side of a context: takes completions from the ring in user
 * space (or with io_getevents, when the ring is not one panaio knows), frees
 * their slots, and delivers them, after any already queued in
 * {@link PendingCompletions}. Also cancels, since a cancelled request's
 * result is a completion like any other.
 *
 * <p>Not thread-safe: used by the context's owner thread, inside its
 * {@link OwnerGuard}.
 */
public final class CompletionReaper {
    /** The io_event.data of the context's own wake-up poll; no request slot has it. */
    public static final long WAKE_DATA = -1L;

    private final long ctx;
    private final ContextCalls calls;
    /** Null when every reap goes through io_getevents. */
    private final CompletionRing ring;
    private final OwnerGuard guard;
    private final SlotTable slots;
    private final PendingCompletions pending;
    private final IocbWriter iocbs;
    private final MemorySegment events;
    private final MemorySegment timeout;
    private final MemorySegment errno;
    /** Counts what moves the ring's head: each event reapRing takes, each io_getevents. */
    private int ringTakes;

    /** Allocates io_getevents' memory in {@code arena}, which lives as long as the context. */
    public CompletionReaper(long ctx, ContextCalls calls, CompletionRing ring, OwnerGuard guard, SlotTable slots,
                            PendingCompletions pending, IocbWriter iocbs, Arena arena, MemorySegment errno) {
        this.ctx = ctx;
        this.calls = calls;
        this.ring = ring;
        this.guard = guard;
        this.slots = slots;
        this.pending = pending;
        this.iocbs = iocbs;
        // One more event than there are slots: the wake-up poll's.
        this.events = arena.allocate(io_event.sizeof() * (slots.capacity() + 1), 8);
        this.timeout = __kernel_timespec.allocate(arena);
        this.errno = errno;
    }

    /** Whether completions are read from the ring in user space. */
    public boolean reapsFromRing() {
        return ring != null;
    }

    /** Delivers up to {@code max} completions available now, without waiting. */
    public int reap(int max, CompletionConsumer consumer) {
        if (slots.pinnedFileClosed()) {
            slots.repin(); // the pinned file was closed: let its descriptor go
        }
        int delivered = pending.drain(consumer, max);
        if (delivered < max) {
            if (ring != null) {
                delivered += reapRing(consumer, max - delivered);
            } else if (getEvents(0, Math.min(max - delivered, slots.capacity()), 0) > 0) {
                delivered += pending.drain(consumer, max - delivered);
            }
        }
        return delivered;
    }

    /**
     * Delivers at least {@code min} completions, waiting up to
     * {@code timeoutNanos} (-1: no limit); fewer only when the time runs out
     * or the context is closed meanwhile.
     */
    public int await(int min, long timeoutNanos, CompletionConsumer consumer) {
        int waiting = slots.inFlight() + pending.count();
        if (min < 1 || min > waiting) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "min must be between 1 and the %d requests in flight, not %d", waiting, min));
        }
        int delivered = pending.drain(consumer, Integer.MAX_VALUE);
        if (ring != null && delivered < min) {
            delivered += reapRing(consumer, Integer.MAX_VALUE);
        }
        long deadline = System.nanoTime() + Math.max(timeoutNanos, 0);
        while (delivered < min && !guard.isClosed()) {
            long remaining = timeoutNanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime());
            if (remaining != 0) {
                slots.dropPin(); // no descriptor of a closed file stays open while this thread sleeps
            }
            // min_nr 1, not min - delivered: the wake-up poll that close() completes is one event, and the
            // kernel must return on it; this loop counts up to min itself.
            getEvents(1, slots.capacity(), remaining);
            delivered += pending.drain(consumer, Integer.MAX_VALUE);
            if (remaining == 0) {
                break;
            }
        }
        if (delivered == 0 && guard.isClosed()) {
            throw OwnerGuard.closedException();
        }
        return delivered;
    }

    /** Waits a little for completions, queueing them; used only to make room while submitting. */
    void waitIntoQueue(long timeoutNanos) {
        if (ring == null || reapRing(null, Integer.MAX_VALUE) == 0) {
            getEvents(1, slots.capacity(), timeoutNanos);
        }
    }

    /**
     * Takes completions from the ring in user space (see AioRingDescriptor for
     * the protocol); with a null consumer they are queued. Head and tail are
     * read once, tail again when the events it covered are used up, and both
     * afresh after a handler that took events from this ring itself (a nested
     * reap, or await's io_getevents, both counted by {@link #ringTakes}), which
     * moves the head under this loop. Stops when the context is closing:
     * close() may be about to destroy the ring.
     */
    private int reapRing(CompletionConsumer consumer, int max) {
        int delivered = 0;
        int head = ring.headAcquire();
        int tail = ring.tailAcquire();
        while (delivered < max && !guard.isClosed()) {
            if (head == tail) {
                tail = ring.tailAcquire();
                if (head == tail) {
                    break;
                }
            }
            long data = ring.dataPlain(head);
            long result = ring.resPlain(head);
            head = ring.next(head);
            ring.releaseHead(head);
            int takes = ++ringTakes;
            if (complete(data, result, consumer)) {
                delivered++;
            }
            if (ringTakes != takes) {
                head = ring.headAcquire();
                tail = ring.tailAcquire();
            }
        }
        return delivered;
    }

    /**
     * io_getevents for at least {@code min} (0 polls) and at most {@code max}
     * events, waiting up to {@code timeoutNanos} (-1: no limit). The events
     * are queued, not delivered, so that neither a throwing handler nor a
     * nested call can lose or overwrite the ones after it. EINTR is retried
     * within the same deadline.
     *
     * @return the number of completions queued
     */
    private int getEvents(int min, int max, long timeoutNanos) {
        long deadline = System.nanoTime() + Math.max(timeoutNanos, 0);
        long ret;
        do {
            if (guard.isClosed()) {
                // close() has signalled (or will signal) the wake-up poll; do not wait on a context it destroys.
                return 0;
            }
            MemorySegment timespec = MemorySegment.NULL;
            if (timeoutNanos >= 0) {
                long remaining = Math.max(0, deadline - System.nanoTime());
                __kernel_timespec.tv_sec(timeout, remaining / 1_000_000_000L);
                __kernel_timespec.tv_nsec(timeout, remaining % 1_000_000_000L);
                timespec = timeout;
            }
            ringTakes++; // the kernel advances the ring's head for what it returns
            ret = calls.ioGetevents(errno, ctx, min, max, events, timespec);
        } while (ret == -ErrnoExceptions.EINTR); // not restartOnEintr: the retry waits only what is left
        if (ret < 0) {
            if (guard.isClosed()) {
                return 0;
            }
            throw new IllegalStateException(ErrnoExceptions.message("io_getevents",
                    String.format(Locale.ROOT, "min_nr=%d, nr=%d", min, max), (int) -ret, "a bug in panaio"));
        }
        int queued = 0;
        for (int i = 0; i < ret; i++) {
            MemorySegment event = io_event.asSlice(events, i);
            if (complete(io_event.data(event), io_event.res(event), null)) {
                queued++;
            }
        }
        return queued;
    }

    /**
     * Frees the slot of a completed request, then hands its completion to the
     * consumer, or to the queue when the consumer is null.
     *
     * @return false for the context's own wake-up poll, which is not a request
     */
    private boolean complete(long data, long result, CompletionConsumer consumer) {
        if (data == WAKE_DATA) {
            return false;
        }
        result = slots.settle(data, result);
        long tag = slots.complete(data);
        if (consumer == null) {
            pending.add(tag, result);
        } else {
            consumer.onCompletion(tag, result);
        }
        return true;
    }

    /**
     * Asks the kernel to cancel the first in-flight request with {@code tag}.
     *
     * @return whether the kernel accepted the cancellation
     */
    public boolean cancel(long tag) {
        int slot = slots.findInFlight(tag);
        if (slot < 0) {
            return false;
        }
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment result = io_event.allocate(scratch);
            long ret = Syscalls.io_cancel(errno, ctx, iocbs.iocb(slot), result);
            if (ret == 0) {
                // Older kernels hand the completion back here instead of posting it to the ring.
                complete(io_event.data(result), io_event.res(result), null);
                return true;
            }
            if (ret == -ErrnoExceptions.EINPROGRESS) {
                return true;
            }
            if (ret == -ErrnoExceptions.EINVAL || ret == -ErrnoExceptions.EAGAIN) {
                return false; // not cancellable, or it completed meanwhile
            }
            throw new IllegalStateException(ErrnoExceptions.message("io_cancel", "tag " + tag, (int) -ret, null));
        }
    }
}
