package dev.panaio.bench;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/** Direct buffers at an aligned address, as O_DIRECT wants them. */
final class AlignedBuffers {
    private AlignedBuffers() {
    }

    /** A direct buffer of {@code size} bytes whose address is a multiple of {@code alignment} (a power of two). */
    static ByteBuffer direct(int size, int alignment, boolean nonZero) {
        // Not alignedSlice(alignment): it also rounds the end down, leaving nothing of a buffer smaller than it.
        ByteBuffer raw = ByteBuffer.allocateDirect(size + alignment);
        long address = MemorySegment.ofBuffer(raw).address();
        int skip = (int) ((alignment - (address & (alignment - 1))) & (alignment - 1));
        ByteBuffer buffer = raw.slice(skip, size);
        if (nonZero) {
            for (int i = 0; i < size; i++) {
                buffer.put(i, RunSpec.fillByte(i));
            }
        }
        return buffer;
    }
}
