package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.IoPriority.IoClass;
import dev.panaio.testing.BlockTrace;
import dev.panaio.testing.LoopDevice;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IoPriorityTest {
    private static final int SEED = 17;
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_SYS_NICE = 23;

    @TempDir
    Path dir;

    @Test
    void shouldAcceptLevelsZeroToSevenOnly() {
        assertThat(new IoPriority(IoClass.BEST_EFFORT, 0).level()).isZero();
        assertThat(new IoPriority(IoClass.BEST_EFFORT, 7).level()).isEqualTo(7);
        assertThatThrownBy(() -> new IoPriority(IoClass.BEST_EFFORT, 8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("I/O priority level must be 0 to 7, not 8");
        assertThatThrownBy(() -> new IoPriority(IoClass.IDLE, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("I/O priority level must be 0 to 7, not -1");
        assertThatThrownBy(() -> new IoPriority(null, 0))
                .isInstanceOf(NullPointerException.class).hasMessage("ioClass");
    }

    @Test
    void shouldEncodeTheClassAboveBitThirteenAndTheLevelBelow() {
        assertThat(new IoPriority(IoClass.REALTIME, 0).value()).isEqualTo((short) (1 << 13));
        assertThat(new IoPriority(IoClass.BEST_EFFORT, 4).value()).isEqualTo((short) (2 << 13 | 4));
        assertThat(new IoPriority(IoClass.IDLE, 7).value()).isEqualTo((short) (3 << 13 | 7));
    }

    private static boolean hasCapability(int capability) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) >>> capability & 1) != 0;
            }
        }
        return false;
    }

    /**
     * What reaches the device, not only what io_submit accepts: the block layer's own tracepoint records
     * the priority of each request issued to a loop device that only this test uses.
     */
    @ParameterizedTest
    @EnumSource(IoClass.class)
    void shouldCarryEachClassToTheDeviceOnADirectRead(IoClass ioClass) throws IOException {
        boolean mayUseRealtime = hasCapability(CAP_SYS_ADMIN) || hasCapability(CAP_SYS_NICE);
        try (LoopDevice loop = LoopDevice.create(dir, 16L << 20, 512)) {
            Path path = TestData.writeFile(loop.mountPoint().resolve("prio"), 8192, SEED);
            PageCache.evict(path);
            try (BlockTrace trace = BlockTrace.ofDeviceHolding(dir, path); AioContext aio = AioContext.open(4);
                 AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT); Arena arena = Arena.ofConfined()) {
                MemorySegment dst = arena.allocate(4096, 4096);
                aio.prepareRead(file, dst, 4096, 1, RequestOptions.NONE.withPriority(new IoPriority(ioClass, 3)));
                if (ioClass == IoClass.REALTIME && !mayUseRealtime) {
                    // The kernel checks the capability in io_submit (ioprio_check_cap).
                    assertThatThrownBy(aio::submit).isInstanceOfSatisfying(SubmitException.class,
                            e -> assertThat(e.errnoName()).isEqualTo("EPERM"));
                    return;
                }
                assertThat(aio.submit()).isEqualTo(1);
                long[] result = {0};
                aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> result[0] = res);
                assertThat(result[0]).isEqualTo(4096);
                assertThat(TestData.firstMismatch(dst, 4096, SEED)).isEqualTo(-1);
                // block_rq_issue prints "<dev> <rwbs> 4096 () <sector> + 8 <class>,<hint>,<level> [<comm>]",
                // where rwbs starts with R for a read (RS: a synchronous read, as direct reads are).
                String printed = switch (ioClass) {
                    case REALTIME -> "rt";
                    case BEST_EFFORT -> "be";
                    case IDLE -> "idle";
                } + ",0,3 ";
                List<String> issued = trace.issued();
                assertThat(issued).as("requests issued to the loop device")
                        .anySatisfy(line -> assertThat(line).matches(".*block_rq_issue: \\d+,\\d+ R[A-Z]* 4096 .*")
                                .contains(printed));
            }
        }
    }
}
