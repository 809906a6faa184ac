package dev.panaio.internal.memory;

import java.lang.foreign.MemorySegment;

/**
 * A caller's segment handed over for one asynchronous request, and the memory
 * the kernel gets for it ({@link #kernel()}), as {@link BufferLifetime}
 * decides: the caller's own for panaio's arenas (a use held until
 * {@link #settle}) and GC-managed memory (kept reachable by this object);
 * otherwise a pooled bounce buffer, filled at hand-over for a write and copied
 * back at completion for a read.
 *
 * <p>Settled or released exactly once, on whichever thread completes the
 * request.
 */
public final class CallerMemory implements HandedOverMemory {
    private final MemorySegment caller;
    private final MemorySegment kernel;
    private final boolean read;
    private ArenaUses held;
    private AlignedBufferPool pool;
    private AlignedBufferPool.Buffer bounce;

    private CallerMemory(MemorySegment caller, MemorySegment kernel, boolean read, ArenaUses held,
                         AlignedBufferPool pool, AlignedBufferPool.Buffer bounce) {
        this.caller = caller;
        this.kernel = kernel;
        this.read = read;
        this.held = held;
        this.pool = pool;
        this.bounce = bounce;
    }

    /**
     * Hands {@code segment} (checked already) over for a read or a write.
     *
     * @throws IllegalStateException if its arena is closed, or the pool is
     */
    public static CallerMemory handOver(MemorySegment segment, boolean read, AlignedBufferPool pool) {
        ArenaUses uses = BufferLifetime.panaioArenaOf(segment.scope());
        if (uses != null) {
            uses.acquire();
            return new CallerMemory(segment, segment, read, uses, null, null);
        }
        if (BufferLifetime.isGcManaged(segment)) {
            return new CallerMemory(segment, segment, read, null, null, null);
        }
        AlignedBufferPool.Buffer bounce = pool.acquire(segment.byteSize());
        MemorySegment kernel = bounce.segment.asSlice(0, segment.byteSize());
        if (!read) {
            try {
                MemorySegment.copy(segment, 0, kernel, 0, segment.byteSize());
            } catch (RuntimeException | Error e) {
                pool.release(bounce);
                throw e;
            }
        }
        return new CallerMemory(segment, kernel, read, null, pool, bounce);
    }

    /** The memory the kernel reads or writes. */
    public MemorySegment kernel() {
        return kernel;
    }

    /**
     * Settles a completed request: copies a bounced read's {@code result}
     * bytes back to the caller's segment, then gives back the use or the
     * bounce buffer.
     *
     * @throws IllegalStateException if the bytes could not be copied back: the caller's arena was closed while
     *                               the read was in flight (the kernel wrote only panaio's memory)
     */
    @Override
    public void settle(long result) {
        try {
            if (bounce != null && read && result > 0) {
                try {
                    MemorySegment.copy(bounce.segment, 0, caller, 0, Math.min(result, caller.byteSize()));
                } catch (IllegalStateException | WrongThreadException e) {
                    throw copyBackFailed(e);
                }
            }
        } finally {
            release();
        }
    }

    /** Gives back the use or the bounce buffer without copying: the request failed. Idempotent. */
    @Override
    public void release() {
        ArenaUses uses = held;
        if (uses != null) {
            held = null;
            uses.release();
        }
        AlignedBufferPool.Buffer buffer = bounce;
        if (buffer != null) {
            bounce = null;
            pool.release(buffer);
            pool = null;
        }
    }

    /** The failure of a read whose bytes could not be copied back. */
    public static IllegalStateException copyBackFailed(RuntimeException cause) {
        return new IllegalStateException("the buffer's arena was closed while the read was in flight; the bytes "
                + "read were discarded (only panaio's memory was written)", cause);
    }
}
