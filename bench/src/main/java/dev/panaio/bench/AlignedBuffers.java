package dev.panaio.bench;

import java.nio.ByteBuffer;

/** Direct buffers at an aligned address, as O_DIRECT wants them. */
final class AlignedBuffers {
    private AlignedBuffers() {
    }

    /** A direct buffer of {@code size} bytes whose address is a multiple of {@code alignment}. */
    static ByteBuffer direct(int size, int alignment, boolean nonZero) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(size + alignment).alignedSlice(alignment);
        buffer.limit(size);
        buffer = buffer.slice();
        if (nonZero) {
            for (int i = 0; i < size; i++) {
                buffer.put(i, RunSpec.fillByte(i));
            }
        }
        return buffer;
    }
}
