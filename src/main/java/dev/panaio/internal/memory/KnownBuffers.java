package dev.panaio.internal.memory;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;

/**
 * What {@link BufferLifetime} found about a direct ByteBuffer, and where its
 * memory starts, remembered by the buffer's identity and weakly, so that a
 * buffer passed call after call is classified once rather than with two
 * {@code MemorySegment.ofBuffer} calls (a segment and a session each) per
 * call. Read and write paths that keep the buffer itself reachable while the
 * kernel may use its memory (a request's completion holds it, a page-cache
 * call fences it) then hand the kernel its address, and make no segment of
 * the JDK's for it.
 *
 * <p>Memory the garbage collector frees ({@code allocateDirect}, a mapped
 * file) is used that way: keeping the buffer reachable is all its lifetime
 * needs. A buffer over a panaio arena's memory ({@code AioArena}) is
 * remembered with that arena's {@link ArenaUses}, of which a request holds a
 * use until its completion is delivered; one over any other arena's memory as
 * {@link #NOT_GC_MANAGED}, and its callers take the general path, which
 * copies it or holds its session for the call, as {@link BufferLifetime} says.
 *
 * <p>The table is small, shared and direct-mapped by identity hash: a buffer
 * that collides with another is classified again, which costs time, never
 * safety. Entries are immutable once published.
 *
 * <p>Thread-safe.
 */
public final class KnownBuffers {
    private KnownBuffers() {
    }

    /** {@link Known#base} of a buffer whose memory the garbage collector does not free. */
    public static final long NOT_GC_MANAGED = -1;

    /** Slots of the table: enough for a few hundred buffers in flight at once. A power of two. */
    private static final int SLOTS = 4096;
    private static final Known[] TABLE = new Known[SLOTS];
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Known[].class);

    /**
     * One buffer's answer, held weakly: it does not keep the buffer alive. A
     * reader that finds it but not its referent (collected) classifies the
     * buffer it holds again.
     */
    public static final class Known extends WeakReference<ByteBuffer> {
        /** The address of a GC-managed buffer's index 0, else {@link #NOT_GC_MANAGED}. */
        public final long base;
        /**
         * For a buffer over a panaio arena's memory ({@code AioArena}), the
         * uses that guard that memory, else null.
         */
        public final ArenaUses panaioArena;
        /**
         * The buffer's whole capacity from index 0, GC-managed or a panaio
         * arena's, with no lifetime of its own; null for any other buffer.
         */
        private final MemorySegment whole;

        /** {@code start}: where the buffer's index 0 is, if it is usable in place, else {@link #NOT_GC_MANAGED}. */
        private Known(ByteBuffer buffer, long start, boolean gcManaged, ArenaUses panaioArena) {
            super(buffer);
            this.base = gcManaged ? start : NOT_GC_MANAGED;
            this.panaioArena = panaioArena;
            this.whole = start == NOT_GC_MANAGED ? null : segmentAt(start, buffer.capacity());
        }

        /** Whether keeping the buffer reachable keeps its memory. */
        public boolean isGcManaged() {
            return base != NOT_GC_MANAGED;
        }

        /** Whether the kernel may use the buffer's memory in place: GC-managed, or a panaio arena's. */
        public boolean isUsableInPlace() {
            return whole != null;
        }

        /** Where the buffer's byte at {@code index} is, for a buffer {@linkplain #isUsableInPlace usable in place}. */
        public long addressOf(int index) {
            return whole.address() + index;
        }

        /**
         * Bytes {@code [from, from + length)} of the buffer, GC-managed or a
         * panaio arena's, as a segment for the kernel (see {@link #segmentAt}):
         * the same object for every request of the whole buffer, a slice
         * otherwise. The caller keeps the buffer reachable, or holds a use of
         * its arena, until the kernel is done with them.
         *
         * @param from   the first byte's index in the buffer
         * @param length how many bytes
         * @return a segment over them
         */
        public MemorySegment memory(int from, int length) {
            return from == 0 && length == whole.byteSize() ? whole : whole.asSlice(from, length);
        }
    }

    /**
     * The answer for {@code direct}, from the table or found now (and then
     * remembered).
     *
     * @param direct a direct buffer
     * @return its answer; {@link Known#refersTo} {@code direct}
     */
    public static Known of(ByteBuffer direct) {
        int i = mix(System.identityHashCode(direct)) & (SLOTS - 1);
        Known known = (Known) SLOT.getAcquire(TABLE, i);
        if (known != null && known.refersTo(direct)) {
            return known;
        }
        known = classify(direct);
        SLOT.setRelease(TABLE, i, known);
        return known;
    }

    /**
     * What {@link BufferLifetime} says of {@code direct}. An arena's buffer
     * keeps its arena's scope for life, so its answer holds for as long as
     * the buffer lives: a panaio arena closed since answers through its
     * {@link ArenaUses}, which refuse a use from then on.
     */
    private static Known classify(ByteBuffer direct) {
        // A private view at position 0: another thread moving the caller's buffer (misuse) cannot shift the start.
        MemorySegment memory = MemorySegment.ofBuffer(direct.duplicate().clear());
        long start = memory.address();
        if (BufferLifetime.isGcManaged(direct)) {
            return new Known(direct, start, true, null);
        }
        ArenaUses uses = memory.scope().isAlive() ? BufferLifetime.panaioArenaOf(memory.scope()) : null;
        return new Known(direct, uses != null ? start : NOT_GC_MANAGED, false, uses);
    }

    /** All of the address space, to slice by address: only ever handed to the kernel, never read through. */
    @SuppressWarnings("restricted")
    private static final MemorySegment EVERYWHERE = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /**
     * {@code length} bytes at {@code address}, inside a buffer found
     * GC-managed, as a segment for the kernel with no lifetime of its own
     * (its scope is the global one).
     */
    private static MemorySegment segmentAt(long address, long length) {
        return EVERYWHERE.asSlice(address, length);
    }

    private static int mix(int h) {
        return h ^ (h >>> 16);
    }
}
