package dev.panaio.testing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.zip.CRC32C;

/**
 * A write-ahead-log record of one 4 KiB block, as the crash-consistency test
 * writes and checks it: record {@code seq} lives at byte {@code seq * 4096}.
 *
 * <pre>
 *   0  magic  int   0x57414C31 ("WAL1")
 *   4  size   int   4096
 *   8  seq    long
 *  16  payload      bytes that are a function of seq
 * 4092 crc    int   CRC32C of bytes 0 to 4091
 * </pre>
 *
 * A block that was never written reads as zeros (the file is preallocated);
 * anything else that does not decode as the record for its own position is
 * torn or garbage.
 */
public final class WalRecord {
    /** Bytes per record. */
    public static final int SIZE = 4096;
    private static final int MAGIC = 0x57414C31;
    private static final int CRC_OFFSET = SIZE - Integer.BYTES;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private WalRecord() {
    }

    /** What a block of the log holds. */
    public enum State { ZERO, VALID, DAMAGED }

    /** Writes record {@code seq} into the first {@link #SIZE} bytes of {@code block}. */
    public static void encode(MemorySegment block, long seq) {
        block.set(INT, 0, MAGIC);
        block.set(INT, 4, SIZE);
        block.set(LONG, 8, seq);
        for (long i = 16; i + Long.BYTES <= CRC_OFFSET; i += Long.BYTES) {
            block.set(LONG, i, payload(seq, i));
        }
        block.set(INT, CRC_OFFSET, crc(block));
    }

    /** Whether {@code block} is zeros, record {@code seq} intact, or anything else. */
    public static State check(MemorySegment block, long seq) {
        if (block.asSlice(0, SIZE).mismatch(MemorySegment.ofArray(new byte[SIZE])) == -1) {
            return State.ZERO;
        }
        boolean valid = block.get(INT, 0) == MAGIC && block.get(INT, 4) == SIZE && block.get(LONG, 8) == seq
                && block.get(INT, CRC_OFFSET) == crc(block);
        for (long i = 16; valid && i + Long.BYTES <= CRC_OFFSET; i += Long.BYTES) {
            valid = block.get(LONG, i) == payload(seq, i);
        }
        return valid ? State.VALID : State.DAMAGED;
    }

    /** The sequence number a damaged block claims, for messages. */
    public static long claimedSeq(MemorySegment block) {
        return block.get(LONG, 8);
    }

    private static long payload(long seq, long offset) {
        long x = seq * 0x9E3779B97F4A7C15L + offset;
        x ^= x >>> 31;
        return x * 0xBF58476D1CE4E5B9L;
    }

    private static int crc(MemorySegment block) {
        CRC32C crc = new CRC32C();
        crc.update(block.asSlice(0, CRC_OFFSET).asByteBuffer());
        return (int) crc.getValue();
    }
}
