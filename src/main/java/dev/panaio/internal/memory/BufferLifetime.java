package dev.panaio.internal.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Where a caller's memory lives, and so how long the kernel may use it in
 * place. This is the one place that decides it, for every level (context,
 * engine, channels):
 * <ul>
 *   <li><b>Panaio's own arenas</b> ({@code AioArena}, the engines' bounce
 *       buffers): used in place; each request holds a use of the arena
 *       ({@link ArenaUses}) until its completion is delivered, so the arena
 *       cannot be closed under the kernel.</li>
 *   <li><b>GC-managed memory</b>: used in place and kept reachable until the
 *       completion is delivered, which is all its lifetime needs. That is
 *       {@code Arena.global()} memory (its scope equals
 *       {@code Arena.global().scope()}), and direct ByteBuffers whose memory
 *       is freed by the garbage collector ({@code ByteBuffer.allocateDirect},
 *       {@code FileChannel.map}): for those, {@code MemorySegment.ofBuffer}
 *       documents "an automatic scope that keeps the provided buffer
 *       reachable", a fresh scope object on each call, whereas a buffer viewing
 *       an arena's memory has that arena's own scope, the same object on each
 *       call. Two calls that give two scope objects therefore mean GC-managed
 *       memory.</li>
 *   <li><b>Anything else</b> (a caller's {@code Arena.ofShared()},
 *       {@code ofConfined()} or {@code ofAuto()}: public API cannot tell them
 *       apart, and the first two can be closed at any time): <b>foreign</b>.
 *       The kernel never sees it once the call that handed it over returns:
 *       it is copied through panaio's memory, and a read's bytes are copied
 *       back with {@code MemorySegment.copy}, which checks that the arena is
 *       still alive.</li>
 * </ul>
 * Holding a segment's session is not possible with public API beyond one
 * downcall (FFM acquires it only for a running downcall that takes the
 * segment as an argument), and an address written into an iocb holds
 * nothing: hence the copy.
 *
 * <p>Panaio's arenas are found by their scope object, by identity, in a
 * copy-on-write open-addressing table: a lookup is a few array reads and
 * allocates nothing.
 *
 * <p>Thread-safe.
 */
public final class BufferLifetime {
    private BufferLifetime() {
    }

    /** Keys and values in turn: scope, ArenaUses. Replaced, never changed, once published. */
    private static volatile Object[] table = new Object[32];
    private static int registered;
    private static final Object LOCK = new Object();

    /** Records that memory of {@code scope} is panaio's own, with the uses that guard its lifetime. */
    public static void register(MemorySegment.Scope scope, ArenaUses uses) {
        Objects.requireNonNull(scope);
        Objects.requireNonNull(uses);
        synchronized (LOCK) {
            Object[] old = table;
            int slots = old.length >>> 1;
            if ((registered + 1) * 2 > slots) {
                slots *= 2;
            }
            Object[] grown = new Object[slots * 2];
            copyInto(old, grown, null);
            insert(grown, scope, uses);
            registered++;
            table = grown;
        }
    }

    /** Forgets {@code scope}, once its arena is closed. */
    public static void unregister(MemorySegment.Scope scope) {
        synchronized (LOCK) {
            Object[] old = table;
            Object[] fresh = new Object[old.length];
            if (copyInto(old, fresh, scope)) {
                registered--;
            }
            table = fresh;
        }
    }

    /** The uses of the panaio arena that owns memory of {@code scope}, or null if it is not panaio's. */
    public static ArenaUses panaioArenaOf(MemorySegment.Scope scope) {
        Object[] t = table;
        int mask = (t.length >>> 1) - 1;
        int i = mix(System.identityHashCode(scope)) & mask;
        while (true) {
            Object key = t[i << 1];
            if (key == scope) {
                return (ArenaUses) t[(i << 1) + 1];
            }
            if (key == null) {
                return null;
            }
            i = (i + 1) & mask;
        }
    }

    /** The uses of the panaio arena that owns {@code segment}, or null. */
    public static ArenaUses panaioArenaOf(MemorySegment segment) {
        return panaioArenaOf(segment.scope());
    }

    /** Whether a segment's memory lives as long as it is reachable: {@code Arena.global()}'s. */
    public static boolean isGcManaged(MemorySegment segment) {
        return segment.scope().equals(Arena.global().scope());
    }

    /**
     * Whether a direct buffer's memory is freed only by the garbage collector
     * ({@code allocateDirect}, a mapped file), so that keeping the buffer
     * reachable keeps its memory: {@code ofBuffer} gives such a buffer a fresh
     * automatic scope on each call, and an arena's buffer that arena's scope.
     */
    public static boolean isGcManaged(ByteBuffer direct) {
        return SCOPES_TELL_LIFETIME && scopeSaysGcManaged(direct);
    }

    private static boolean scopeSaysGcManaged(ByteBuffer direct) {
        MemorySegment.Scope first = MemorySegment.ofBuffer(direct).scope();
        return first != MemorySegment.ofBuffer(direct).scope() || first.equals(Arena.global().scope());
    }

    /**
     * Whether this JDK's {@code ofBuffer} scopes tell the two lifetimes apart
     * as {@link #isGcManaged(ByteBuffer)} expects, checked once on a buffer of
     * each kind. The API does not promise it; if a JDK answers otherwise,
     * every direct buffer counts as an arena's (copied, or held for the call),
     * which is slower and never unsafe.
     */
    private static final boolean SCOPES_TELL_LIFETIME = checkScopes();

    private static boolean checkScopes() {
        try (Arena arena = Arena.ofConfined()) {
            return scopeSaysGcManaged(ByteBuffer.allocateDirect(16))
                    && !scopeSaysGcManaged(arena.allocate(16).asByteBuffer());
        }
    }

    /** Whether the kernel may use this memory in place beyond one call: it is panaio's or GC-managed. */
    public static boolean usableInPlace(MemorySegment segment) {
        return panaioArenaOf(segment.scope()) != null || isGcManaged(segment);
    }

    private static boolean copyInto(Object[] from, Object[] to, MemorySegment.Scope skip) {
        boolean skipped = false;
        for (int i = 0; i < from.length; i += 2) {
            Object key = from[i];
            if (key == null) {
                continue;
            }
            if (key == skip) {
                skipped = true;
            } else {
                insert(to, (MemorySegment.Scope) key, (ArenaUses) from[i + 1]);
            }
        }
        return skipped;
    }

    private static void insert(Object[] t, MemorySegment.Scope scope, ArenaUses uses) {
        int mask = (t.length >>> 1) - 1;
        int i = mix(System.identityHashCode(scope)) & mask;
        while (t[i << 1] != null) {
            i = (i + 1) & mask;
        }
        t[i << 1] = scope;
        t[(i << 1) + 1] = uses;
    }

    private static int mix(int h) {
        return h ^ (h >>> 16);
    }
}
