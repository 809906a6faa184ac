package dev.panaio;

import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.ChildJvm.Outcome;
import dev.panaio.testing.ProcessResources;
import dev.panaio.testing.child.ExhaustAioBudget;
import dev.panaio.testing.child.ExhaustMapCount;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * io_setup fails with EAGAIN once fs.aio-max-nr would be exceeded; panaio says
 * so with numbers and a remedy.
 */
class AioLimitExceptionTest {
    private static final Pattern SUGGESTED_LIMIT = Pattern.compile("sysctl -w fs\\.aio-max-nr=(\\d+)");

    private static long aioMaxNr() throws IOException {
        return Long.parseLong(Files.readAllLines(Path.of("/proc/sys/fs/aio-max-nr")).get(0).trim());
    }

    private static long suggestedLimit(String message) {
        Matcher m = SUGGESTED_LIMIT.matcher(message);
        assertThat(m.find()).as("message suggests a limit: %s", message).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void shouldNameTheSysctlAndItsNumbersWhenOpenContextsUseUpTheBudget() throws Exception {
        // In a child JVM: the budget is system-wide, and the child's exit gives every context back however
        // it ends. Contexts of 4096 leave under 4096 events free at the peak, for whoever else runs now.
        int capacity = 4096;
        ProcessResources before = ProcessResources.now();
        Outcome child = ChildJvm.onClassPath(ExhaustAioBudget.class,
                List.of("--enable-native-access=ALL-UNNAMED"), Integer.toString(capacity));

        assertThat(child.exitCode()).as("%s", child).isZero();
        long aioNr = Long.parseLong(child.value("aioNr"));
        long aioMaxNr = Long.parseLong(child.value("aioMaxNr"));
        String message = child.value("message");
        assertThat(aioMaxNr).isEqualTo(aioMaxNr());
        assertThat(aioNr).as("the budget really was nearly used up").isLessThanOrEqualTo(aioMaxNr)
                .isGreaterThan(aioMaxNr - capacity);
        assertThat(Integer.parseInt(child.value("opened"))).isPositive();
        assertThat(child.value("call")).isEqualTo("io_setup");
        assertThat(child.value("errnoName")).isEqualTo("EAGAIN");
        assertThat(message)
                // A context asks the kernel for its capacity plus one event for its own wake-up poll.
                .contains("io_setup(nr=" + (capacity + 1) + ")")
                .contains("EAGAIN")
                .contains("fs.aio-max-nr")
                .contains(Long.toString(aioNr))
                .contains(Long.toString(aioMaxNr))
                .contains("sysctl -w fs.aio-max-nr=");
        assertThat(suggestedLimit(message)).isGreaterThan(aioMaxNr);
        // fs.aio-nr is system-wide: it tells about the child only while no other process opened or closed a context.
        ProcessResources after = ProcessResources.now();
        for (int i = 0; i < 50 && after.aioNr() != before.aioNr() && !after.otherProcessesChangedAioContexts(before);
             i++) {
            Thread.sleep(100);
            after = ProcessResources.now();
        }
        if (after.otherProcessesChangedAioContexts(before)) {
            System.out.printf(Locale.ROOT, "AioLimitExceptionTest: fs.aio-nr went from %d to %d, but other processes "
                    + "opened or closed AIO contexts meanwhile (%s -> %s)%n", before.aioNr(), after.aioNr(),
                    before.otherAioRings(), after.otherAioRings());
        } else {
            assertThat(after.aioNr()).as("the child's contexts are all given back").isEqualTo(before.aioNr());
        }
    }

    @Test
    void shouldThrowItForOneContextLargerThanTheWholeBudget() throws IOException {
        // The kernel refuses nr > fs.aio-max-nr outright, charging nothing: safe to do in this JVM.
        long max = aioMaxNr();
        int tooMany = (int) Math.min(max + 1, AioContext.MAX_CAPACITY);
        assertThatThrownBy(() -> AioContext.open(tooMany))
                .isInstanceOfSatisfying(AioLimitException.class, e -> {
                    assertThat(e.aioMaxNr()).isEqualTo(max);
                    assertThat(e.aioNr()).isNotNegative();
                    assertThat(e.errno()).isEqualTo(ErrnoExceptions.EAGAIN);
                    assertThat(e.errnoName()).isEqualTo("EAGAIN");
                    assertThat(e.call()).isEqualTo("io_setup");
                })
                .hasMessageContaining("io_setup(nr=" + (tooMany + 1) + ") failed: EAGAIN (")
                .hasMessageContaining("fs.aio-max-nr " + max)
                .hasMessageContaining("asks for " + (tooMany + 1) + " more");
    }

    @Test
    void shouldSuggestALimitHighEnoughForTheContextThatFailed() throws IOException {
        try (AioContext held = AioContext.open(8)) {
            int capacity = AioContext.MAX_CAPACITY;
            assertThatThrownBy(() -> AioContext.open(capacity))
                    .isInstanceOfSatisfying(AioLimitException.class, e ->
                            assertThat(suggestedLimit(e.getMessage()))
                                    .as("following the advice must let io_setup(%d) succeed with fs.aio-nr at %d",
                                            capacity, e.aioNr())
                                    .isGreaterThanOrEqualTo(e.aioNr() + capacity));
            assertThat(held.isClosed()).isFalse();
        }
    }

    @Test
    void shouldNameVmMaxMapCountWhenTheProcessHasNoMappingLeftForARing() throws Exception {
        // In a child JVM, which brings its own mappings to vm.max_map_count (a per-process limit) and then opens.
        // The JVM must need no new mapping at the limit: a committed, touched heap, and no compiler.
        Outcome child = ChildJvm.onClassPath(ExhaustMapCount.class, List.of("--enable-native-access=ALL-UNNAMED",
                "-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch", "-Xint", "-XX:+UseSerialGC"));

        assertThat(child.exitCode()).as("%s", child).isZero();
        assertThat(child.value("outcome")).isEqualTo("failed");
        assertThat(child.value("type")).isEqualTo(AioLimitException.class.getName());
        assertThat(child.value("errnoName")).isEqualTo("ENOMEM");
        assertThat(child.value("message")).contains("io_setup(nr=2)").contains("vm.max_map_count");
    }
}
