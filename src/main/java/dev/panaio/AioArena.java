package dev.panaio;

import dev.panaio.internal.memory.ArenaUses;
import dev.panaio.internal.memory.BufferLifetime;
import dev.panaio.internal.sys.NativeAccess;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A shared arena owned by panaio, whose memory the kernel uses in place, with
 * no copy, at every level: {@link AioContext}, {@link AioEngine} and both
 * channels (also through ByteBuffers made with {@code segment.asByteBuffer()}).
 * {@snippet :
 * try (AioArena arena = AioArena.open();
 *      AioFileChannel channel = AioFileChannel.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
 *     ByteBuffer block = arena.allocate(4096, 4096).asByteBuffer();
 *     channel.read(block, 0);                  // the kernel writes straight into the arena's memory
 * }                                            // closed once nothing is in flight on it
 * }
 *
 * <h2>Lifetime</h2>
 * Each request on this arena's memory holds a use of the arena from the call
 * that hands the memory over until its completion is delivered. {@link #close()}
 * while any request is in flight throws {@link IllegalStateException} naming
 * how many, as the JDK's {@code arena.close()} does while a JDK channel's I/O
 * holds its session; the arena stays open, and may be closed once they have
 * completed. So the kernel never writes into freed memory. A use costs one
 * atomic operation when taken and one when given back.
 *
 * <h2>Other memory</h2>
 * Memory of any other arena that can be closed ({@code Arena.ofShared()},
 * {@code ofConfined()}, and {@code ofAuto()}, which public API cannot tell
 * apart) is copied through panaio's own memory whenever the kernel may use it
 * after the call returns, since nothing can stop its owner from freeing it.
 * Direct ByteBuffers from {@code ByteBuffer.allocateDirect} and
 * {@code Arena.global()} memory are used in place and kept reachable.
 *
 * <p>Thread-safe: allocation, use and {@code close()} from any thread.
 */
public final class AioArena implements Arena {
    private final Arena arena;
    private final ArenaUses uses;

    private AioArena(Arena arena) {
        this.arena = arena;
        this.uses = new ArenaUses("AioArena");
        BufferLifetime.register(arena.scope(), uses);
    }

    /**
     * Opens a shared arena owned by panaio.
     *
     * @return the open arena
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioArena open() {
        NativeAccess.ensureEnabled();
        return new AioArena(Arena.ofShared());
    }

    /**
     * Allocates native memory, zeroed, of {@code byteSize} bytes aligned to
     * {@code byteAlignment}. For direct I/O, align to the file's
     * {@link AioFile#alignment()} (4096 always suffices).
     *
     * @throws IllegalStateException    if the arena is closed
     * @throws IllegalArgumentException if the size is negative or the alignment not a power of two
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return arena.allocate(byteSize, byteAlignment);
    }

    /** The scope of this arena's memory: alive until {@link #close()} succeeds. */
    @Override
    public MemorySegment.Scope scope() {
        return arena.scope();
    }

    /**
     * Requests on this arena's memory whose completions have not been delivered yet.
     *
     * @return the number of requests in flight
     */
    public int inFlight() {
        return uses.inFlight();
    }

    /**
     * Frees the arena's memory, when no request on it is in flight.
     *
     * @throws IllegalStateException if it is already closed; if requests on its memory are in flight (the
     *                               message says how many; the arena stays open); or if a JDK channel still holds
     *                               its memory's session
     */
    @Override
    public void close() {
        uses.close();
        try {
            arena.close();
        } catch (IllegalStateException heldByTheJdk) {
            uses.reopen();
            throw heldByTheJdk;
        }
        BufferLifetime.unregister(arena.scope());
    }

    @Override
    public String toString() {
        return "AioArena[" + (uses.isClosed() ? "closed" : "inFlight=" + uses.inFlight()) + "]";
    }
}
