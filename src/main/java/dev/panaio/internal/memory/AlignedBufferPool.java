package dev.panaio.internal.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Native buffers aligned for direct I/O, reused across requests: the bounce
 * buffers an engine copies through when a caller's buffer is on the heap,
 * misaligned, or of an arena the caller may close while the kernel uses it.
 *
 * <p>Buffers come in power-of-two size classes from 4 KiB. Idle buffers are
 * kept for reuse up to {@code maxRetainedBytes}; past that, a released buffer
 * is freed at once. A buffer is handed back only after the kernel is done with
 * it (its request completed), so the kernel never writes into freed memory.
 * {@link #close()} frees the idle buffers; buffers still out are freed when
 * they come back.
 *
 * <p>Thread-safe.
 */
public final class AlignedBufferPool implements AutoCloseable {
    private static final int MIN_SHIFT = 12;
    private static final int CLASSES = 31 - MIN_SHIFT;

    /**
     * One pooled buffer: its own arena, so it can be freed alone. The arena is
     * registered as panaio's ({@link BufferLifetime}), so a context uses it in
     * place, holding a use of it per request, and it is freed only with no use
     * held.
     */
    public static final class Buffer {
        final Arena arena;
        final ArenaUses uses;
        /** The buffer's memory, aligned to 4096. */
        public final MemorySegment segment;
        final int sizeClass;

        private Buffer(Arena arena, MemorySegment segment, int sizeClass) {
            this.arena = arena;
            this.segment = segment;
            this.sizeClass = sizeClass;
            this.uses = new ArenaUses("bounce buffer");
            BufferLifetime.register(arena.scope(), uses);
        }

        void free() {
            uses.close();
            arena.close();
            BufferLifetime.unregister(arena.scope());
        }
    }

    private final long alignment;
    private final long maxRetainedBytes;
    private final AtomicLong retainedBytes = new AtomicLong();
    private final AtomicLong outstandingBytes = new AtomicLong();
    @SuppressWarnings({"unchecked", "rawtypes"}) // an array of a generic type can only be made raw
    private final ConcurrentLinkedDeque<Buffer>[] idle = new ConcurrentLinkedDeque[CLASSES];
    private volatile boolean closed;

    /** A pool of buffers aligned to {@code alignment}, keeping up to {@code maxRetainedBytes} idle. */
    public AlignedBufferPool(long alignment, long maxRetainedBytes) {
        if (Long.bitCount(alignment) != 1 || alignment > (1L << MIN_SHIFT)) {
            throw new IllegalArgumentException("alignment must be a power of two up to 4096: " + alignment);
        }
        this.alignment = alignment;
        this.maxRetainedBytes = maxRetainedBytes;
        for (int i = 0; i < CLASSES; i++) {
            idle[i] = new ConcurrentLinkedDeque<>();
        }
    }

    /**
     * A buffer of at least {@code size} bytes, aligned to 4096 bytes (which
     * satisfies every direct I/O memory alignment).
     *
     * @throws IllegalArgumentException if size is negative or above 1 GiB
     * @throws IllegalStateException    if the pool is closed
     */
    public Buffer acquire(long size) {
        if (size < 0 || size > (1L << 30)) {
            throw new IllegalArgumentException("bounce buffers hold 0 to 1 GiB, not " + size);
        }
        if (closed) {
            throw new IllegalStateException("buffer pool is closed");
        }
        int sizeClass = sizeClassOf(size);
        Buffer buffer = idle[sizeClass].pollFirst();
        long bytes = 1L << (sizeClass + MIN_SHIFT);
        if (buffer != null) {
            retainedBytes.addAndGet(-bytes);
        } else {
            Arena arena = Arena.ofShared();
            buffer = new Buffer(arena, arena.allocate(bytes, Math.max(alignment, 1L << MIN_SHIFT)), sizeClass);
        }
        outstandingBytes.addAndGet(bytes);
        return buffer;
    }

    /** Gives a buffer back; only once the kernel can no longer touch it. */
    public void release(Buffer buffer) {
        long bytes = buffer.segment.byteSize();
        outstandingBytes.addAndGet(-bytes);
        if (!closed) {
            if (retainedBytes.addAndGet(bytes) <= maxRetainedBytes) {
                idle[buffer.sizeClass].offerFirst(buffer);
                if (closed) {
                    freeIdle(); // close() ran meanwhile and may have missed this buffer
                }
                return;
            }
            retainedBytes.addAndGet(-bytes);
        }
        buffer.free();
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** Bytes kept idle for reuse. */
    public long retainedBytes() {
        return retainedBytes.get();
    }

    /** Bytes handed out and not yet released. */
    public long outstandingBytes() {
        return outstandingBytes.get();
    }

    @Override
    public void close() {
        closed = true;
        freeIdle();
    }

    private void freeIdle() {
        for (ConcurrentLinkedDeque<Buffer> deque : idle) {
            Buffer buffer;
            while ((buffer = deque.pollFirst()) != null) {
                retainedBytes.addAndGet(-buffer.segment.byteSize());
                buffer.free();
            }
        }
    }

    private static int sizeClassOf(long size) {
        long rounded = Math.max(size, 1L << MIN_SHIFT);
        int shift = 64 - Long.numberOfLeadingZeros(rounded - 1);
        return shift - MIN_SHIFT;
    }
}
