package dev.panaio;

import dev.panaio.testing.child.CarrierCheck;
import dev.panaio.testing.child.VirtualMissCheck;
import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * AioFileChannel and virtual threads: no carrier is pinned or compensated while a read waits.
 */
class AioFileChannelVirtualThreadTest {
    private static final int SEED = 1;

    @TempDir
    Path dir;

    // -------------------------------------------------------- virtual threads

    @Test
    void shouldServeThousandsOfVirtualThreadsWithoutCompensatingCarriers() throws Exception {
        Path path = TestData.writeFile(dir.resolve("vt"), 16 << 20, SEED);
        ChildJvm.Outcome run = ChildJvm.onClassPath(CarrierCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED"), "aio", path.toString(), "4000", "5");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assumeTrue(!run.stdout().startsWith("unsupported"), run.stdout());
        Matcher m = Pattern.compile("parallelism=(\\d+) maxPool=(\\d+) reads=(\\d+) mismatches=(\\d+)")
                .matcher(run.stdout());
        assertThat(m.find()).as(run.stdout()).isTrue();
        assertThat(Long.parseLong(m.group(3))).isEqualTo(20_000);
        assertThat(Long.parseLong(m.group(4))).isZero();
        assertThat(Integer.parseInt(m.group(2))).as("carrier pool size").isLessThanOrEqualTo(
                Integer.parseInt(m.group(1)));
    }

    @Test
    void shouldUnmountAVirtualThreadWhoseBufferedReadMissesThePageCache() throws Exception {
        int threads = 16;
        Path path = TestData.writeFile(dir.resolve("vt-miss"), threads << 20, SEED);
        ChildJvm.Outcome run = ChildJvm.onClassPath(VirtualMissCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED", "-Djdk.virtualThreadScheduler.parallelism=1",
                        "-Djdk.virtualThreadScheduler.maxPoolSize=1"),
                path.toString(), Integer.toString(threads), Integer.toString(SEED));
        assertThat(run.exitCode()).as(run.toString()).isZero();
        Matcher m = Pattern.compile(
                "maxInFlight=(\\d+) threads=(\\d+) poolRuns=(\\d+) mismatches=(\\d+)").matcher(run.stdout());
        assertThat(m.find()).as(run.stdout()).isTrue();
        // One carrier: only if a read unmounted its thread could another thread start a read before it returned.
        assertThat(Integer.parseInt(m.group(1))).as("most reads in flight at once, " + run.stdout()).isGreaterThan(1);
        assertThat(Long.parseLong(m.group(3))).as("reads run on the pool").isEqualTo(threads);
        assertThat(Long.parseLong(m.group(4))).isZero();
    }

    @Test
    void shouldSeeTheJdkFileChannelCompensateCarriersWhichShowsTheCheckWorks() throws Exception {
        Path path = TestData.writeFile(dir.resolve("vt-jdk"), 16 << 20, SEED);
        PageCache.evict(path);
        ChildJvm.Outcome run = ChildJvm.onClassPath(CarrierCheck.class,
                List.of("--enable-native-access=ALL-UNNAMED"), "jdk", path.toString(), "200", "5");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assumeTrue(!run.stdout().startsWith("unsupported"), run.stdout());
        Matcher m = Pattern.compile("parallelism=(\\d+) maxPool=(\\d+)").matcher(run.stdout());
        assertThat(m.find()).as(run.stdout()).isTrue();
        assertThat(Integer.parseInt(m.group(2))).as("carrier pool size under the JDK's blocking reads")
                .isGreaterThan(Integer.parseInt(m.group(1)));
    }
}
