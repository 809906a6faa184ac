package dev.panaio.internal.memory;

import java.lang.foreign.MemorySegment;

/**
 * A caller's buffers handed over for one vectored request, and the buffers
 * the kernel gets for them ({@link #kernel()}), as {@link BufferLifetime}
 * decides for each: when every one may be used in place (a panaio arena's,
 * one use held per buffer until {@link #settle}; GC-managed memory, kept
 * reachable by this object), the caller's own, in order; otherwise one pooled
 * bounce buffer of their total length, filled at hand-over for a write and
 * copied back, buffer after buffer, at completion for a read. One contiguous
 * bounce keeps the request a single iovec, aligned for direct I/O.
 *
 * <p>Settled or released exactly once, on whichever thread completes the
 * request.
 */
public final class CallerVector implements HandedOverMemory {
    private final MemorySegment[] caller;
    private final MemorySegment[] kernel;
    private final boolean read;
    /** The uses held, one per buffer of a panaio arena (null elsewhere); null when none. */
    private ArenaUses[] held;
    private AlignedBufferPool pool;
    private AlignedBufferPool.Buffer bounce;

    private CallerVector(MemorySegment[] caller, MemorySegment[] kernel, boolean read, ArenaUses[] held,
                         AlignedBufferPool pool, AlignedBufferPool.Buffer bounce) {
        this.caller = caller;
        this.kernel = kernel;
        this.read = read;
        this.held = held;
        this.pool = pool;
        this.bounce = bounce;
    }

    /**
     * Hands {@code segments} (checked already, {@code total} bytes in all) over for one vectored read or write.
     * The array is copied: the caller may change its own afterwards.
     *
     * @throws IllegalStateException if an arena is closed, or the pool is
     */
    public static CallerVector handOver(MemorySegment[] segments, long total, boolean read, AlignedBufferPool pool) {
        MemorySegment[] caller = segments.clone();
        boolean inPlace = true;
        for (MemorySegment segment : caller) {
            if (!BufferLifetime.usableInPlace(segment)) {
                inPlace = false;
                break;
            }
        }
        if (inPlace) {
            ArenaUses[] held = null;
            try {
                for (int i = 0; i < caller.length; i++) {
                    ArenaUses uses = BufferLifetime.panaioArenaOf(caller[i].scope());
                    if (uses != null) {
                        uses.acquire();
                        if (held == null) {
                            held = new ArenaUses[caller.length];
                        }
                        held[i] = uses;
                    }
                }
            } catch (RuntimeException | Error closed) {
                releaseAll(held);
                throw closed;
            }
            return new CallerVector(caller, caller, read, held, null, null);
        }
        AlignedBufferPool.Buffer bounce = pool.acquire(total);
        MemorySegment contiguous = bounce.segment.asSlice(0, total);
        if (!read) {
            try {
                long at = 0;
                for (MemorySegment segment : caller) {
                    MemorySegment.copy(segment, 0, contiguous, at, segment.byteSize());
                    at += segment.byteSize();
                }
            } catch (RuntimeException | Error e) {
                pool.release(bounce);
                throw e;
            }
        }
        return new CallerVector(caller, new MemorySegment[] {contiguous}, read, null, pool, bounce);
    }

    /** The buffers the kernel reads or writes, in order: the caller's, or one bounce buffer. */
    public MemorySegment[] kernel() {
        return kernel;
    }

    /** Whether the kernel gets a bounce buffer rather than the caller's memory. */
    public boolean bounced() {
        return kernel != caller;
    }

    @Override
    public void settle(long result) {
        try {
            if (bounce != null && read && result > 0) {
                try {
                    long at = 0;
                    for (MemorySegment segment : caller) {
                        long n = Math.min(result - at, segment.byteSize());
                        if (n <= 0) {
                            break;
                        }
                        MemorySegment.copy(bounce.segment, at, segment, 0, n);
                        at += n;
                    }
                } catch (IllegalStateException | WrongThreadException e) {
                    throw CallerMemory.copyBackFailed(e);
                }
            }
        } finally {
            release();
        }
    }

    @Override
    public void release() {
        ArenaUses[] uses = held;
        if (uses != null) {
            held = null;
            releaseAll(uses);
        }
        AlignedBufferPool.Buffer buffer = bounce;
        if (buffer != null) {
            bounce = null;
            pool.release(buffer);
            pool = null;
        }
    }

    private static void releaseAll(ArenaUses[] uses) {
        if (uses != null) {
            for (ArenaUses use : uses) {
                if (use != null) {
                    use.release();
                }
            }
        }
    }
}
