package dev.panaio.internal.memory;

import dev.panaio.AioArena;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What KnownBuffers says of a direct buffer: where its memory starts and
 * what keeps it alive, which decides whether a request hands the kernel its
 * address. Each answer is checked against the JDK's own view of the buffer
 * ({@code MemorySegment.ofBuffer}).
 */
class KnownBuffersTest {
    private static long start(ByteBuffer buffer) {
        return MemorySegment.ofBuffer(buffer.duplicate().clear()).address();
    }

    @Test
    void shouldKnowAnAllocateDirectBufferAsGcManagedWhereverItsPositionIs() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(8192).position(1000);
        KnownBuffers.Known known = KnownBuffers.of(buffer);
        assertThat(known.refersTo(buffer)).isTrue();
        assertThat(known.isGcManaged()).isTrue();
        assertThat(known.isUsableInPlace()).isTrue();
        assertThat(known.panaioArena).isNull();
        assertThat(known.base).as("index 0, not the position").isEqualTo(start(buffer));
        assertThat(known.addressOf(1000)).isEqualTo(MemorySegment.ofBuffer(buffer).address());
        assertThat(buffer.position()).as("the caller's position untouched").isEqualTo(1000);
        assertThat(KnownBuffers.of(buffer)).as("remembered").isSameAs(known);
    }

    @Test
    void shouldGiveTheWholeBufferOneSegmentAndAPartASliceOfIt() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(8192);
        KnownBuffers.Known known = KnownBuffers.of(buffer);
        MemorySegment whole = known.memory(0, 8192);
        assertThat(known.memory(0, 8192)).isSameAs(whole);
        assertThat(whole.address()).isEqualTo(start(buffer));
        MemorySegment part = known.memory(4096, 512);
        assertThat(part.address()).isEqualTo(start(buffer) + 4096);
        assertThat(part.byteSize()).isEqualTo(512);
    }

    @Test
    void shouldKnowASliceByItsOwnStart() {
        ByteBuffer parent = ByteBuffer.allocateDirect(16384);
        ByteBuffer slice = parent.slice(4096, 4096);
        KnownBuffers.Known known = KnownBuffers.of(slice);
        assertThat(known.isGcManaged()).isTrue();
        assertThat(known.base).isEqualTo(start(parent) + 4096);
        assertThat(known.memory(0, 4096).byteSize()).isEqualTo(4096);
    }

    @Test
    void shouldNotUseInPlaceABufferOverAnotherArenasMemory() {
        try (Arena arena = Arena.ofShared()) {
            ByteBuffer buffer = arena.allocate(4096, 4096).asByteBuffer();
            KnownBuffers.Known known = KnownBuffers.of(buffer);
            assertThat(known.isGcManaged()).as("its owner frees it, not the collector").isFalse();
            assertThat(known.isUsableInPlace()).isFalse();
            assertThat(known.panaioArena).isNull();
        }
    }

    @Test
    void shouldKnowAnAioArenasBufferByItsArenasUses() {
        AioArena arena = AioArena.open();
        ByteBuffer buffer = arena.allocate(4096, 4096).asByteBuffer();
        KnownBuffers.Known known = KnownBuffers.of(buffer);
        assertThat(known.isGcManaged()).isFalse();
        assertThat(known.isUsableInPlace()).isTrue();
        assertThat(known.panaioArena).isNotNull();
        assertThat(known.addressOf(0)).isEqualTo(start(buffer));
        assertThat(known.panaioArena.isClosed()).isFalse();
        arena.close();
        assertThat(known.panaioArena.isClosed()).as("the arena's close is seen through the remembered uses").isTrue();
    }
}
