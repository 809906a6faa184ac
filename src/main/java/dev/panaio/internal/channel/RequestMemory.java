package dev.panaio.internal.channel;

import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;
import dev.panaio.MisalignedIoException;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.context.RequestChecks;
import dev.panaio.internal.memory.AlignedBufferPool;
import dev.panaio.internal.memory.ArenaUses;
import dev.panaio.internal.memory.BufferLifetime;
import dev.panaio.internal.memory.KnownBuffers;
import dev.panaio.internal.stats.SharedCounters;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;

/**
 * The memory a single-buffer request of {@link FileIo} hands the kernel: the
 * caller's own, in place, when panaio can guard its lifetime until the result
 * is settled, else a copy through an aligned buffer of the engine's bounce
 * pool. A direct file also needs it aligned, or (strict mode) refuses it.
 *
 * <p>Thread-safe: the pool and counters it uses are.
 */
final class RequestMemory {
    private static final SharedSecrets.EngineAccess ENGINES = SharedSecrets.engineAccess();

    private final AioEngine engine;
    private final AioFile file;
    private final DirectAlignment alignment;
    private final boolean strict;
    private final SharedCounters counters;

    RequestMemory(AioEngine engine, AioFile file, DirectAlignment alignment, boolean strict,
                  SharedCounters counters) {
        this.engine = engine;
        this.file = file;
        this.alignment = alignment;
        this.strict = strict;
        this.counters = counters;
    }

    /**
     * Checks a caller's buffer before anything uses its address: a direct
     * buffer whose arena is closed would send the kernel into freed memory,
     * and an asynchronous request completes on another thread, which may not
     * touch memory confined to the caller's.
     */
    static void checkBuffer(MemorySegment segment, ChannelCompletion op) {
        if (segment == null) {
            return; // heap memory
        }
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("the buffer's arena is already closed");
        }
        if (!op.settlesOnCaller()) {
            RequestChecks.checkNotConfined(segment);
        }
    }

    /** As {@link #checkBuffer}, for a buffer known to be usable in place: a panaio arena's may be closed. */
    static void checkKnown(KnownBuffers.Known known) {
        if (known != null && known.panaioArena != null && known.panaioArena.isClosed()) {
            throw new IllegalStateException("the buffer's arena is already closed");
        }
    }

    /**
     * The caller's memory, for the kernel to use after this call returns, when
     * its lifetime allows: a panaio arena's (a use is held until the result is
     * settled) or GC-managed memory (kept reachable by the op); null when it
     * must be copied (BufferLifetime).
     */
    static MemorySegment inPlace(ChannelCompletion op, ByteBuffer buffer, MemorySegment direct) {
        if (direct == null) {
            return null;
        }
        ArenaUses uses = BufferLifetime.panaioArenaOf(direct.scope());
        if (uses != null) {
            uses.acquire();
            op.holds(uses);
            return direct;
        }
        return BufferLifetime.isGcManaged(buffer) ? direct : null;
    }

    /** The caller's memory when aligned, else a bounce buffer (null: the request failed), else strict refuses. */
    MemorySegment chooseDirectMemory(ChannelCompletion op, ByteBuffer buffer, MemorySegment direct,
                                             long position, int length, boolean read) throws MisalignedIoException {
        RequestChecks.checkDirectOffset(file, position, "file position");
        RequestChecks.checkDirectOffset(file, length, "length");

        boolean aligned = direct != null && alignment.isMemoryAligned(direct.address());
        if (strict && !aligned) {
            if (direct == null) {
                throw RequestChecks.misaligned("direct I/O on " + file.path() + " needs native memory aligned to "
                        + alignment.memory() + " bytes, and this is a heap buffer (STRICT_ALIGNMENT is on): use "
                        + "ByteBuffer.allocateDirect and align it, or open without STRICT_ALIGNMENT to bounce it",
                        alignment.memory());
            }
            RequestChecks.checkDirectMemory(file, direct.address(), "buffer address");
        }
        // Aligned memory whose lifetime panaio can guard goes in place; anything else, also a caller's aligned
        // arena memory (which its owner may free while the kernel writes), is copied.
        MemorySegment memory = aligned ? inPlace(op, buffer, direct) : null;
        if (memory == null) {
            memory = bounce(op, buffer, length, read);
        }
        return memory;
    }

    /**
     * As {@link #chooseDirectMemory}, for a direct buffer that the kernel may
     * use in place ({@code known}): in place when aligned (the request's
     * completion keeps a GC-managed buffer reachable, which keeps its memory,
     * and holds a use of a panaio arena until the result is settled), else a
     * bounce buffer, else strict refuses.
     */
    MemorySegment chooseKnownMemory(ChannelCompletion op, ByteBuffer buffer, KnownBuffers.Known known,
                                    long position, int length, boolean read) throws MisalignedIoException {
        RequestChecks.checkDirectOffset(file, position, "file position");
        RequestChecks.checkDirectOffset(file, length, "length");
        int from = buffer.position();
        long address = known.addressOf(from);
        if (alignment.isMemoryAligned(address)) {
            MemorySegment memory = known.memory(from, length); // before the use: a bad range takes none
            ArenaUses uses = known.panaioArena;
            if (uses != null) {
                uses.acquire(); // throws if the arena has closed since checkKnown looked
                op.holds(uses);
            }
            return memory;
        }
        if (strict) {
            RequestChecks.checkDirectMemory(file, address, "buffer address");
        }
        return bounce(op, buffer, length, read);
    }

    /**
     * Copies through a pooled aligned buffer.
     *
     * @return the bounce memory, or null (the request failed) once the engine is closed
     */
    MemorySegment bounce(ChannelCompletion op, ByteBuffer buffer, int length, boolean read) {
        AlignedBufferPool pool = ENGINES.bouncePool(engine);
        AlignedBufferPool.Buffer bounce;
        try {
            bounce = pool.acquire(length);
        } catch (IllegalStateException poolClosed) {
            op.fail(new AsynchronousCloseException()); // the engine closed since read() or write() looked
            return null;
        }
        op.bouncesThrough(pool, bounce, read ? buffer : null);
        counters.bounceCopiedBytes.add(length);
        MemorySegment memory = bounce.segment.asSlice(0, length);
        if (!read) {
            try {
                MemorySegment.copy(MemorySegment.ofBuffer(buffer), 0, memory, 0, length);
            } catch (RuntimeException | Error e) {
                op.releaseBounce(); // the caller's memory went away meanwhile: do not leak the pool's
                throw e;
            }
        }
        return memory;
    }
}
