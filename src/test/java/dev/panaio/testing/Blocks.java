package dev.panaio.testing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Self-describing 4096-byte blocks for tests that write concurrently: each
 * block holds its own number, a version, a payload derived from both, and a
 * CRC32C of all that. A torn write, a write landing at the wrong offset, a
 * stale or lost write, or a read that filled the wrong buffer all show.
 *
 * <pre>
 *   0       8       16                              4088    4096
 *   +-------+-------+-------------------------------+-------+
 *   |number |version| payload(number, version)      | CRC32C|
 *   +-------+-------+-------------------------------+-------+
 * </pre>
 */
public final class Blocks {
    public static final int SIZE = 4096;
    private static final int CRC_OFFSET = SIZE - Long.BYTES;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private Blocks() {
    }

    /** Writes block {@code number} at {@code version} into the first 4096 bytes of {@code block}. */
    public static void fill(MemorySegment block, long number, long version) {
        block.set(LONG, 0, number);
        block.set(LONG, 8, version);
        long x = (number * 0x9E3779B97F4A7C15L ^ version * 0xC2B2AE3D27D4EB4FL) | 1; // never 0: xorshift would stay 0
        for (long i = 16; i < CRC_OFFSET; i += Long.BYTES) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            block.set(LONG, i, x);
        }
        block.set(LONG, CRC_OFFSET, crc(block));
    }

    /** As {@link #fill(MemorySegment, long, long)}, into the 4096 bytes of a buffer from its position. */
    public static void fill(ByteBuffer block, long number, long version) {
        fill(MemorySegment.ofBuffer(block).asSlice(0, SIZE), number, version);
    }

    /**
     * Checks that {@code block} is an intact copy of block {@code number} and
     * returns its version.
     *
     * @throws AssertionError naming what is wrong: another block's number, a bad CRC, a wrong payload
     */
    public static long verify(MemorySegment block, long number) {
        long found = block.get(LONG, 0);
        long version = block.get(LONG, 8);
        if (block.get(LONG, CRC_OFFSET) != crc(block)) {
            throw new AssertionError("block " + number + ": CRC mismatch (torn or corrupt; header says block "
                    + found + " version " + version + ")");
        }
        if (found != number) {
            throw new AssertionError("block " + number + " holds block " + found + " (version " + version + ")");
        }
        return version;
    }

    /** As {@link #verify(MemorySegment, long)}, on the 4096 bytes of a buffer from its position. */
    public static long verify(ByteBuffer block, long number) {
        return verify(MemorySegment.ofBuffer(block).asSlice(0, SIZE), number);
    }

    /** Checks block {@code number} is intact and at exactly {@code version}. */
    public static void verify(MemorySegment block, long number, long version) {
        long found = verify(block, number);
        if (found != version) {
            throw new AssertionError("block " + number + " is at version " + found + ", expected " + version
                    + " (a write was lost or applied out of order)");
        }
    }

    private static long crc(MemorySegment block) {
        CRC32C crc = new CRC32C();
        crc.update(block.asSlice(0, CRC_OFFSET).asByteBuffer());
        return crc.getValue();
    }
}
