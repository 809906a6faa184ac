package dev.panaio;

/**
 * What direct I/O ({@code O_DIRECT}) on one file requires: every buffer
 * address a multiple of {@code memory}, every file position and length a
 * multiple of {@code offset}.
 *
 * <p>These vary by filesystem and device: ext4 on a 512-byte-sector disk
 * gives 512 / 512; a 4096-byte-sector device gives 512 / 4096.
 *
 * @param memory alignment of buffer addresses, in bytes (a power of two)
 * @param offset alignment of file positions and lengths, in bytes (a power of two)
 * @param source where the values came from
 */
public record DirectAlignment(long memory, long offset, Source source) {
    /** Where an alignment was learned, best first. */
    public enum Source {
        /** {@code statx(STATX_DIOALIGN)}: the filesystem's own answer (Linux 6.1+). */
        STATX,
        /** The block device's logical block size, for both values (older kernels). */
        LOGICAL_BLOCK_SIZE,
        /** Neither was available: 4096, which every common device accepts. */
        DEFAULT
    }

    /**
     * Checks the alignments.
     *
     * @throws IllegalArgumentException if a value is not a positive power of two
     * @throws NullPointerException     if source is null
     */
    public DirectAlignment {
        if (memory <= 0 || offset <= 0 || Long.bitCount(memory) != 1 || Long.bitCount(offset) != 1) {
            throw new IllegalArgumentException("alignments must be positive powers of two: memory=" + memory
                    + ", offset=" + offset);
        }
        java.util.Objects.requireNonNull(source, "source");
    }

    /**
     * Whether {@code address} is a multiple of {@link #memory()}.
     *
     * @param address a memory address
     * @return true if it is aligned for direct I/O
     */
    public boolean isMemoryAligned(long address) {
        return (address & (memory - 1)) == 0;
    }

    /**
     * Whether {@code value}, a position or length, is a multiple of {@link #offset()}.
     *
     * @param value a file position or transfer length
     * @return true if it is aligned for direct I/O
     */
    public boolean isOffsetAligned(long value) {
        return (value & (offset - 1)) == 0;
    }
}
