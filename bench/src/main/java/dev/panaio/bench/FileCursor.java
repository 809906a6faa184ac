package dev.panaio.bench;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The next offset of a workload whose requests form one sequential stream
 * across every thread and request slot: {@code append} (past the end of the
 * file, never wrapping) and {@code wal} (from the start of the preallocated
 * file, wrapping at its end). Thread-safe: completion handlers on several
 * threads draw from it.
 */
final class FileCursor {
    private final AtomicLong next = new AtomicLong();
    private final long base;
    private final long wrapAt;
    private final int bs;
    private final boolean fallocatedEachRun;

    /**
     * @param base   the first offset
     * @param wrapAt bytes after {@code base} at which the stream starts again at {@code base}, or 0 for never
     * @param fallocatedEachRun wal --fallocated: the file is made again with fallocate(2) before each engine
     */
    FileCursor(long base, long wrapAt, int bs, boolean fallocatedEachRun) {
        this.base = base;
        this.wrapAt = wrapAt;
        this.bs = bs;
        this.fallocatedEachRun = fallocatedEachRun;
    }

    /** Whether the stream's file is made again with fallocate(2), all unwritten extents, before each engine. */
    boolean fallocatedEachRun() {
        return fallocatedEachRun;
    }

    /** The first offset, which is also where an append run leaves the file's size. */
    long base() {
        return base;
    }

    /** Starts the stream again at {@link #base}, for the next engine. */
    void reset() {
        next.set(0);
    }

    /** The next block's offset. */
    long next() {
        long n = next.getAndAdd(bs);
        return base + (wrapAt > 0 ? n % wrapAt : n);
    }
}
