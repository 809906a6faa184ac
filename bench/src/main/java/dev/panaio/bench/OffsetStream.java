package dev.panaio.bench;

import java.util.SplittableRandom;

/**
 * The file offsets one request slot or thread uses, each a multiple of the
 * block size and inside the file. Random streams draw blocks uniformly;
 * sequential ones walk their own stretch of the file and wrap; append and wal
 * draw from the run's one {@link FileCursor}. Allocation-free.
 */
public final class OffsetStream {
    private final boolean random;
    private final long bs;
    private final long blocks;
    private final long firstBlock;
    private final long stretch;
    private final SplittableRandom rng;
    private final FileCursor shared;
    private long next;

    OffsetStream(RunSpec spec, int index) {
        this.bs = spec.bs();
        this.random = spec.workload().isRandom();
        this.blocks = Math.max(1, spec.fileSize() / spec.bs());
        long per = Math.max(1, blocks / spec.qd());
        this.firstBlock = Math.min(blocks - 1, per * index);
        this.stretch = Math.min(per, blocks - firstBlock);
        // Not a multiple of SplittableRandom's own increment (0x9E3779B97F4A7C15): with seeds that are,
        // stream i is stream 0 shifted by i draws, so every stream re-reads the blocks the previous one
        // has just read. An odd multiplier of its own places the streams far apart in the one sequence.
        this.rng = new SplittableRandom(0xD1B54A32D192ED03L * (index + 1));
        this.shared = spec.cursor();
    }

    /** The next offset, in bytes; always 0 for a file of no size (/dev/zero). */
    public long next() {
        if (shared != null) {
            return shared.next();
        }
        if (random) {
            return rng.nextLong(blocks) * bs;
        }
        long block = firstBlock + next;
        next = next + 1 == stretch ? 0 : next + 1;
        return block * bs;
    }
}
