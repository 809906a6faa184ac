package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.DirectAlignment.Source;
import dev.panaio.testing.BlockQueue;
import dev.panaio.testing.LoopDevice;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DirectAlignmentTest {
    private static final int SEED = 19;

    @TempDir
    Path dir;

    @Test
    void shouldAcceptPowersOfTwo() {
        DirectAlignment rules = new DirectAlignment(1, 1L << 62, Source.DEFAULT);
        assertThat(rules.memory()).isEqualTo(1);
        assertThat(rules.offset()).isEqualTo(1L << 62);
    }

    @Test
    void shouldRejectValuesThatAreNotPositivePowersOfTwoNamingBoth() {
        assertThatThrownBy(() -> new DirectAlignment(3, 512, Source.STATX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("alignments must be positive powers of two: memory=3, offset=512");
        assertThatThrownBy(() -> new DirectAlignment(512, 0, Source.STATX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("alignments must be positive powers of two: memory=512, offset=0");
        assertThatThrownBy(() -> new DirectAlignment(-512, 512, Source.STATX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("alignments must be positive powers of two: memory=-512, offset=512");
        assertThatThrownBy(() -> new DirectAlignment(512, 4095, Source.STATX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("offset=4095");
    }

    @Test
    void shouldRejectTheOneNegativeNumberWithASingleBitSet() {
        // Long.MIN_VALUE has exactly one bit set, yet is no positive power of two.
        assertThatThrownBy(() -> new DirectAlignment(Long.MIN_VALUE, 512, Source.STATX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("positive powers of two");
        assertThatThrownBy(() -> new DirectAlignment(512, Long.MIN_VALUE, Source.STATX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("positive powers of two");
    }

    @Test
    void shouldRequireASource() {
        assertThatThrownBy(() -> new DirectAlignment(512, 512, null))
                .isInstanceOf(NullPointerException.class).hasMessage("source");
    }

    @Test
    void shouldTellAlignedAddressesFromMisalignedOnes() {
        DirectAlignment rules = new DirectAlignment(512, 4096, Source.STATX);
        assertThat(rules.isMemoryAligned(0)).isTrue();
        assertThat(rules.isMemoryAligned(512)).isTrue();
        assertThat(rules.isMemoryAligned(0x7fff_ffff_f000L)).isTrue();
        assertThat(rules.isMemoryAligned(0xffff_ffff_ffff_fe00L)).as("addresses are unsigned").isTrue();
        assertThat(rules.isMemoryAligned(1)).isFalse();
        assertThat(rules.isMemoryAligned(511)).isFalse();
        assertThat(rules.isMemoryAligned(513)).isFalse();
    }

    @Test
    void shouldTellAlignedPositionsAndLengthsFromMisalignedOnes() {
        DirectAlignment rules = new DirectAlignment(512, 4096, Source.STATX);
        assertThat(rules.isOffsetAligned(0)).isTrue();
        assertThat(rules.isOffsetAligned(4096)).isTrue();
        assertThat(rules.isOffsetAligned(1L << 40)).isTrue();
        assertThat(rules.isOffsetAligned(512)).as("memory alignment is not enough").isFalse();
        assertThat(rules.isOffsetAligned(4095)).isFalse();
        assertThat(rules.isOffsetAligned(4097)).isFalse();
    }

    @Test
    void shouldLearnAndEnforce4096ByteOffsetsOnADeviceWith4096ByteSectors() throws IOException {
        try (LoopDevice loop = LoopDevice.create(dir, 64L << 20, 4096);
             AioContext aio = AioContext.open(4); Arena arena = Arena.ofConfined()) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("data"), 64 << 10, SEED);
            try (AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT)) {
                // The device's sectors set the offset rule; its DMA alignment the (looser) memory rule.
                long memory = BlockQueue.of(path).orElseThrow().memoryAlignment();
                assertThat(memory).as("the loop device's DMA alignment is looser than its sectors").isLessThan(4096);
                assertThat(file.alignment()).isEqualTo(new DirectAlignment(memory, 4096, Source.STATX));

                MemorySegment block = arena.allocate(8192, 4096);
                assertThatThrownBy(() -> aio.prepareRead(file, block.asSlice(0, 4096), 512, 1))
                        .isInstanceOfSatisfying(MisalignedIoException.class,
                                e -> assertThat(e.requiredAlignment()).isEqualTo(4096))
                        .hasMessage("Channel position (512) is not a multiple of the block size (4096): direct I/O on " + path
                                + " needs the file position to be a multiple of 4096, "
                                + "and 512 is not: round it to a multiple of 4096");
                assertThatThrownBy(() -> aio.prepareRead(file, block.asSlice(0, 512), 0, 1))
                        .isInstanceOf(MisalignedIoException.class)
                        .hasMessageContaining("needs the length to be a multiple of 4096, and 512 is not");
                assertThat(aio.prepared()).isZero();

                // A buffer aligned to the memory rule but not to 4096 is fine: only offsets and lengths need 4096.
                MemorySegment dst = block.asSlice(Math.max(memory, 512), 4096);
                aio.prepareRead(file, dst, 8192, 2);
                aio.submit();
                long[] result = {0};
                aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> result[0] = res);
                assertThat(result[0]).isEqualTo(4096);
                assertThat(TestData.firstMismatch(dst, 8192, SEED)).isEqualTo(-1);
            }
        }
    }
}
