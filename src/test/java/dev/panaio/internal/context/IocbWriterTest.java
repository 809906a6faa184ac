package dev.panaio.internal.context;

import dev.panaio.internal.context.IocbWriter.Abi;
import dev.panaio.internal.gen.aio_abi.iocb;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link IocbWriter} writes an iocb as eight words with the small fields packed
 * into them: read back through jextract's own accessors, every field holds
 * what was written, whatever was in the slot before, and the slot beside it is
 * untouched.
 */
class IocbWriterTest {
    @Test
    void shouldWriteEveryFieldWhereTheGeneratedLayoutReadsIt() {
        try (Arena arena = Arena.ofConfined()) {
            IocbWriter writer = new IocbWriter(arena, 3);
            for (int slot = 0; slot < 3; slot++) {
                writer.iocb(slot).fill((byte) 0xa5); // whatever a previous request left
            }
            // Values with every byte distinct and the sign bits set, so that a field shifted, truncated or
            // sign-extended into its neighbour shows.
            writer.write(1, Abi.CMD_PWRITE, 0x8765_4321, 0x9abc_def0, 0x8123_4567, (short) 0xfedc,
                    0xa1b2_c3d4, 0x1122_3344_5566_7788L, 0x0102_0304_0506_0708L, 0x7f6e_5d4c_3b2a_1908L);

            MemorySegment cb = writer.iocb(1);
            assertThat(iocb.aio_data(cb)).isEqualTo(1);
            assertThat(iocb.aio_key(cb)).isZero();
            assertThat(iocb.aio_rw_flags(cb)).isEqualTo(0x9abc_def0);
            assertThat(iocb.aio_lio_opcode(cb)).isEqualTo(Abi.CMD_PWRITE);
            assertThat(iocb.aio_reqprio(cb)).isEqualTo((short) 0xfedc);
            assertThat(iocb.aio_fildes(cb)).isEqualTo(0x8765_4321);
            assertThat(iocb.aio_buf(cb)).isEqualTo(0x1122_3344_5566_7788L);
            assertThat(iocb.aio_nbytes(cb)).isEqualTo(0x0102_0304_0506_0708L);
            assertThat(iocb.aio_offset(cb)).isEqualTo(0x7f6e_5d4c_3b2a_1908L);
            assertThat(iocb.aio_reserved2(cb)).isZero();
            assertThat(iocb.aio_flags(cb)).isEqualTo(0x8123_4567);
            assertThat(iocb.aio_resfd(cb)).isEqualTo(0xa1b2_c3d4);

            for (int neighbour : new int[] {0, 2}) {
                MemorySegment untouched = writer.iocb(neighbour);
                for (long i = 0; i < untouched.byteSize(); i++) {
                    assertThat(untouched.get(ValueLayout.JAVA_BYTE, i)).isEqualTo((byte) 0xa5);
                }
            }
        }
    }

    @Test
    void shouldLeaveNoByteOfAPreviousRequestBehind() {
        try (Arena arena = Arena.ofConfined()) {
            IocbWriter writer = new IocbWriter(arena, 1);
            writer.iocb(0).fill((byte) 0xff);
            writer.write(0, Abi.CMD_PREAD, 3, 0, 0, (short) 0, 0, 4096, 512, 0);

            MemorySegment cb = writer.iocb(0);
            assertThat(iocb.aio_rw_flags(cb)).isZero();
            assertThat(iocb.aio_reqprio(cb)).isZero();
            assertThat(iocb.aio_flags(cb)).isZero();
            assertThat(iocb.aio_resfd(cb)).isZero();
            assertThat(iocb.aio_fildes(cb)).isEqualTo(3);
            assertThat(iocb.aio_lio_opcode(cb)).isEqualTo(Abi.CMD_PREAD);
            assertThat(iocb.aio_nbytes(cb)).isEqualTo(512);
        }
    }
}
