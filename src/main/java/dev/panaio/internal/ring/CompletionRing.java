package dev.panaio.internal.ring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.panaio.internal.ring.AioRingDescriptor.EVENT_DATA_OFFSET;
import static dev.panaio.internal.ring.AioRingDescriptor.EVENT_RES_OFFSET;
import static dev.panaio.internal.ring.AioRingDescriptor.EVENTS_OFFSET;
import static dev.panaio.internal.ring.AioRingDescriptor.EVENT_SIZE;
import static dev.panaio.internal.ring.AioRingDescriptor.HEAD_OFFSET;
import static dev.panaio.internal.ring.AioRingDescriptor.TAIL_OFFSET;

/**
 * A read-side view of one context's completion ring, following the protocol
 * in {@link AioRingDescriptor}.
 *
 * <p>The view is a segment of the kernel's mapping, bound to an arena the
 * owner closes before {@code io_destroy} unmaps the ring: a stray access after
 * that throws {@link IllegalStateException} instead of faulting.
 *
 * <p>Not thread-safe: the kernel's protocol allows one reaper per context,
 * and the owning {@code AioContext} enforces that.
 */
public final class CompletionRing {
    /** A 32-bit field of the header, addressed as (segment, byte offset). */
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment ring;
    private final int nr;

    private CompletionRing(MemorySegment ring, int nr) {
        this.ring = ring;
        this.nr = nr;
    }

    /**
     * Views the ring at {@code ctxId}, or returns {@code null} if its header is
     * not the layout panaio knows; then completions must come from io_getevents.
     */
    @SuppressWarnings("restricted")
    public static CompletionRing map(long ctxId, Arena arena) {
        MemorySegment header = MemorySegment.ofAddress(ctxId).reinterpret(EVENTS_OFFSET, arena, null);
        if (header.get(ValueLayout.JAVA_INT, AioRingDescriptor.MAGIC_OFFSET) != AioRingDescriptor.MAGIC
                || header.get(ValueLayout.JAVA_INT, AioRingDescriptor.INCOMPAT_FEATURES_OFFSET)
                != AioRingDescriptor.INCOMPAT_FEATURES
                || header.get(ValueLayout.JAVA_INT, AioRingDescriptor.HEADER_LENGTH_OFFSET) != EVENTS_OFFSET) {
            return null;
        }
        int nr = header.get(ValueLayout.JAVA_INT, AioRingDescriptor.NR_OFFSET);
        if (nr <= 0) {
            return null;
        }
        return new CompletionRing(header.reinterpret(EVENTS_OFFSET + nr * EVENT_SIZE, arena, null), nr);
    }

    /** Reads {@code nr} from a ring header without keeping a view: the ring's real size. */
    @SuppressWarnings("restricted")
    public static int slotsOf(long ctxId) {
        return MemorySegment.ofAddress(ctxId).reinterpret(EVENTS_OFFSET)
                .get(ValueLayout.JAVA_INT, AioRingDescriptor.NR_OFFSET);
    }

    /** Number of event slots. */
    public int slots() {
        return nr;
    }

    /**
     * The consumer index, loaded with acquire. Only the reaper writes it, but
     * io_getevents (in the kernel) writes it too, so it is loaded like tail.
     */
    public int headAcquire() {
        return (int) INT.getAcquire(ring, HEAD_OFFSET);
    }

    /** The producer index: acquire pairs with the kernel's write barrier before it publishes tail. */
    public int tailAcquire() {
        return (int) INT.getAcquire(ring, TAIL_OFFSET);
    }

    /**
     * {@code io_event.data} of slot {@code index}, a plain load: ordered by
     * the {@link #tailAcquire()} that covers the slot, before it.
     */
    public long dataPlain(int index) {
        return ring.get(ValueLayout.JAVA_LONG, EVENTS_OFFSET + index * EVENT_SIZE + EVENT_DATA_OFFSET);
    }

    /** {@code io_event.res} of slot {@code index} (bytes, or {@code -errno}), a plain load like {@link #dataPlain}. */
    public long resPlain(int index) {
        return ring.get(ValueLayout.JAVA_LONG, EVENTS_OFFSET + index * EVENT_SIZE + EVENT_RES_OFFSET);
    }

    /** The slot after {@code index}, wrapping modulo nr. */
    public int next(int index) {
        int n = index + 1;
        return n == nr ? 0 : n;
    }

    /** Hands slots up to {@code head} back to the kernel with a release store, after their events' loads. */
    public void releaseHead(int head) {
        INT.setRelease(ring, HEAD_OFFSET, head);
    }
}
