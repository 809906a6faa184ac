package dev.panaio.internal.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * An engine's counters that any thread bumps (the channels' calling threads,
 * the blocking pool): {@link LongAdder}s, which spread
 * contended increments over cells instead of fighting over one cache line.
 *
 * <p>Thread-safe.
 */
public final class SharedCounters {
    /** Buffered reads the page cache answered on the calling thread (preadv2 RWF_NOWAIT returned it all). */
    public final LongAdder inlineHits = new LongAdder();
    /** Buffered reads the page cache could not answer at once, handed to the blocking pool. */
    public final LongAdder inlineMisses = new LongAdder();
    /** Reads and writes run on the blocking pool, direct writes that met EAGAIN under RWF_NOWAIT included. */
    public final LongAdder poolRuns = new LongAdder();
    /** Bytes copied through bounce buffers (the caller's memory could not be handed to the kernel in place). */
    public final LongAdder bounceCopiedBytes = new LongAdder();
}
