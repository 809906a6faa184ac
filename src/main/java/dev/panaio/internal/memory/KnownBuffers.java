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
 * <p>Only memory the garbage collector frees ({@code allocateDirect}, a mapped
 * file) is used that way: keeping the buffer reachable is all its lifetime
 * needs. A buffer over an arena's memory is remembered as
 * {@link #NOT_GC_MANAGED}, and its callers take the general path, which holds
 * or copies the arena's memory as {@link BufferLifetime} says.
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
        /** The address of the buffer's index 0, or {@link #NOT_GC_MANAGED}. */
        public final long base;
        /** The buffer's whole capacity from index 0, with no lifetime of its own; null if not GC-managed. */
        private final MemorySegment whole;

        private Known(ByteBuffer buffer, long base) {
            super(buffer);
            this.base = base;
            this.whole = base == NOT_GC_MANAGED ? null : segmentAt(base, buffer.capacity());
        }

        /** Whether keeping the buffer reachable keeps its memory. */
        public boolean isGcManaged() {
            return base != NOT_GC_MANAGED;
        }

        /**
         * Bytes {@code [from, from + length)} of the GC-managed buffer as a
         * segment for the kernel (see {@link #segmentAt}): the same object for
         * every request of the whole buffer, a slice otherwise. The caller
         * keeps the buffer reachable until the kernel is done with them.
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
        known = new Known(direct, BufferLifetime.isGcManaged(direct)
                ? MemorySegment.ofBuffer(direct).address() - direct.position() : NOT_GC_MANAGED);
        SLOT.setRelease(TABLE, i, known);
        return known;
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
