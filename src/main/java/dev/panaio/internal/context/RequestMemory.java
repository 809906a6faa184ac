package dev.panaio.internal.context;

import dev.panaio.internal.memory.ArenaUses;
import dev.panaio.internal.memory.BufferLifetime;
import dev.panaio.internal.sys.ErrnoExceptions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * The memory each request slot hands the kernel, chosen by
 * {@link BufferLifetime}: the caller's own, in place, when panaio controls its
 * lifetime (an {@code AioArena}: one use held per request until its completion
 * is delivered) or the garbage collector does (kept reachable by the slot
 * table); otherwise the slot's own bounce memory, so that a caller who closes
 * its arena while the request is in flight frees nothing the kernel writes.
 * A write's bytes are copied in when it is prepared; a read's are copied back
 * when its completion is reaped, with {@code MemorySegment.copy}, which
 * checks that the caller's arena is alive and the thread may access it. When
 * it is not, the completion's result becomes {@code -EFAULT}.
 *
 * <p>Bounce memory is the context's: one segment per slot, aligned to 4096,
 * grown on demand and reused, so a stream of requests through it allocates
 * nothing once warm; a slot keeps at most {@link #RETAINED_BYTES}.
 *
 * <p>Not thread-safe: used by the context's owner thread, through its
 * {@link SlotTable}.
 */
public final class RequestMemory {
    /** Bounce memory a slot keeps between requests; larger requests free theirs at completion. */
    static final long RETAINED_BYTES = 1L << 20;
    private static final long ALIGNMENT = 4096;

    /** Per slot: the panaio arena use(s) held, an ArenaUses or the slot's {@link #vectorUses} array. */
    private final Object[] uses;
    /** Per slot: the uses of a vectored request's buffers (null where none), grown as needed and reused. */
    private final ArenaUses[][] vectorUses;
    /** Per slot: where a bounced read's bytes go, a MemorySegment or a MemorySegment[]. */
    private final Object[] copyBackTo;
    private final Arena[] bounceArenas;
    private final MemorySegment[] bounces;
    /**
     * The scope of the last panaio arena's segment classified, and that arena's uses: a stream of requests on
     * one arena's memory looks it up once. A scope belongs to one arena for good, and an
     * {@code AioArena} registers its scope before any of its memory exists, so the answer never goes stale; a
     * closed arena's segments are refused before they get here (their scope is no longer alive), and one closed
     * meanwhile refuses the use.
     */
    private MemorySegment.Scope lastScope;
    private ArenaUses lastArena;

    RequestMemory(int slots) {
        uses = new Object[slots];
        vectorUses = new ArenaUses[slots][];
        copyBackTo = new Object[slots];
        bounceArenas = new Arena[slots];
        bounces = new MemorySegment[slots];
    }

    /** The address the kernel gets for {@code segment} (checked already): its own, or the slot's bounce. */
    long address(int slot, MemorySegment segment, boolean read) {
        ArenaUses arena = panaioArenaOf(segment.scope());
        if (arena != null) {
            arena.acquire();
            uses[slot] = arena;
            return segment.address();
        }
        if (BufferLifetime.isGcManaged(segment)) {
            return segment.address();
        }
        return bounce(slot, segment, read);
    }

    /** As {@link #address(int, MemorySegment, boolean)}, for a direct ByteBuffer and its segment. */
    long address(int slot, ByteBuffer buffer, MemorySegment segment, boolean read) {
        ArenaUses arena = panaioArenaOf(segment.scope());
        if (arena != null) {
            arena.acquire();
            uses[slot] = arena;
            return segment.address();
        }
        if (BufferLifetime.isGcManaged(buffer)) {
            return segment.address();
        }
        return bounce(slot, segment, read);
    }

    private ArenaUses panaioArenaOf(MemorySegment.Scope scope) {
        if (scope == lastScope) {
            return lastArena;
        }
        ArenaUses arena = BufferLifetime.panaioArenaOf(scope);
        if (arena != null) {
            // Only a panaio arena's scope is kept: another's (an automatic arena's, a buffer's) would keep its
            // memory from being freed for as long as it stayed the last one seen.
            lastScope = scope;
            lastArena = arena;
        }
        return arena;
    }

    /**
     * The buffers a vectored request hands the kernel: the caller's when each
     * is usable in place, else one bounce of their total length.
     */
    MemorySegment[] vector(int slot, MemorySegment[] buffers, long total, boolean read) {
        for (MemorySegment buffer : buffers) {
            if (!BufferLifetime.usableInPlace(buffer)) {
                MemorySegment bounce = bounceMemory(slot, total);
                if (read) {
                    copyBackTo[slot] = buffers;
                } else {
                    long at = 0;
                    for (MemorySegment b : buffers) {
                        MemorySegment.copy(b, 0, bounce, at, b.byteSize());
                        at += b.byteSize();
                    }
                }
                return new MemorySegment[] {bounce};
            }
        }
        ArenaUses[] held = vectorUses[slot];
        if (held == null || held.length < buffers.length) {
            held = vectorUses[slot] = new ArenaUses[Math.max(buffers.length, 8)]; // entries are nulled on release
        }
        try {
            for (int i = 0; i < buffers.length; i++) {
                ArenaUses arena = BufferLifetime.panaioArenaOf(buffers[i].scope());
                if (arena != null) {
                    arena.acquire();
                    held[i] = arena;
                }
            }
        } finally {
            uses[slot] = held; // on a closed arena, the ones taken are released with the aborted slot
        }
        return buffers;
    }

    private long bounce(int slot, MemorySegment segment, boolean read) {
        MemorySegment bounce = bounceMemory(slot, segment.byteSize());
        if (read) {
            copyBackTo[slot] = segment;
        } else {
            MemorySegment.copy(segment, 0, bounce, 0, segment.byteSize());
        }
        return bounce.address();
    }

    private MemorySegment bounceMemory(int slot, long size) {
        MemorySegment bounce = bounces[slot];
        if (bounce == null || bounce.byteSize() < size) {
            freeBounce(slot);
            long bytes = Math.max(ALIGNMENT, Long.highestOneBit(Math.max(size, 1) - 1) << 1);
            Arena arena = Arena.ofShared(); // shared: a context may be handed from thread to thread
            bounceArenas[slot] = arena;
            bounce = bounces[slot] = arena.allocate(bytes, ALIGNMENT);
        }
        return bounce.asSlice(0, size);
    }

    /**
     * Settles the memory of a completed request: copies a bounced read's
     * bytes back and gives back any arena use.
     *
     * @return the result to deliver: {@code result}, or {@code -EFAULT} when the bytes could not be copied back
     *         (the caller's arena was closed while the read was in flight, or is confined to another thread)
     */
    long complete(int slot, long result) {
        Object target = copyBackTo[slot];
        if (target != null) {
            copyBackTo[slot] = null;
            if (result > 0) {
                try {
                    copyBack(slot, target, result);
                } catch (RuntimeException closedOrConfined) {
                    result = -ErrnoExceptions.EFAULT;
                }
            }
        }
        if (bounces[slot] != null && bounces[slot].byteSize() > RETAINED_BYTES) {
            freeBounce(slot); // reads and writes alike: a slot keeps at most RETAINED_BYTES between requests
        }
        releaseUses(slot);
        return result;
    }

    private void copyBack(int slot, Object target, long result) {
        MemorySegment bounce = bounces[slot];
        if (target instanceof MemorySegment segment) {
            MemorySegment.copy(bounce, 0, segment, 0, Math.min(result, segment.byteSize()));
            return;
        }
        long at = 0;
        for (MemorySegment segment : (MemorySegment[]) target) {
            long n = Math.min(result - at, segment.byteSize());
            if (n <= 0) {
                break;
            }
            MemorySegment.copy(bounce, at, segment, 0, n);
            at += n;
        }
    }

    /** A slot that never reached the kernel: its uses go, nothing is copied. */
    void abort(int slot) {
        copyBackTo[slot] = null;
        releaseUses(slot);
    }

    /** At teardown, after io_destroy: every use is given back and every bounce freed. */
    void releaseAll() {
        for (int slot = 0; slot < uses.length; slot++) {
            abort(slot);
            freeBounce(slot);
        }
        lastScope = null;
        lastArena = null;
    }

    private void releaseUses(int slot) {
        Object held = uses[slot];
        if (held == null) {
            return;
        }
        uses[slot] = null;
        if (held instanceof ArenaUses arena) {
            arena.release();
        } else {
            ArenaUses[] array = (ArenaUses[]) held;
            for (int i = 0; i < array.length; i++) {
                ArenaUses arena = array[i];
                if (arena != null) {
                    array[i] = null;
                    arena.release();
                }
            }
        }
    }

    private void freeBounce(int slot) {
        Arena arena = bounceArenas[slot];
        if (arena != null) {
            bounceArenas[slot] = null;
            bounces[slot] = null;
            arena.close();
        }
    }
}
