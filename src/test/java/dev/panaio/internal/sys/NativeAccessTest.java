package dev.panaio.internal.sys;

import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.ChildJvm.Outcome;
import dev.panaio.testing.child.ProbeNativeAccess;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a user sees who forgot {@code --enable-native-access}: panaio's own
 * {@link IllegalCallerException} naming the flag to add, from every public
 * entry point (the context, files, eventfds, both channels' every
 * {@code open}, the engine's {@code open}, {@code builder()} and
 * {@code shared()}), before any restricted method runs (so no JDK warning
 * either). Each case runs in a fresh JVM, since native access is fixed at
 * start-up and, in the JDK's default "warn" mode, switched on for good by the
 * first restricted call.
 */
class NativeAccessTest {
    private static final List<String> NO_FLAGS = List.of();
    private static final String JDK_WARNING = "A restricted method";

    static Stream<String> entryPoints() {
        return Arrays.stream(ProbeNativeAccess.ENTRY_POINTS);
    }

    /** The entry points that open something when native access is enabled (not the null-engine ones). */
    static Stream<String> openingEntryPoints() {
        return entryPoints().filter(entryPoint -> !entryPoint.endsWith("null-engine"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void shouldRefuseOnTheClassPathNamingAllUnnamed(String entryPoint) throws Exception {
        Outcome child = ChildJvm.onClassPath(ProbeNativeAccess.class, NO_FLAGS, entryPoint);
        assertThat(child.exitCode()).as("%s", child).isEqualTo(2);
        assertThat(child.value("illegalCaller")).contains("--enable-native-access=ALL-UNNAMED");
        assertThat(child.stderr()).as("the JDK's warning means a restricted call ran first").doesNotContain(JDK_WARNING);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void shouldRefuseOnTheModulePathNamingTheModule(String entryPoint) throws Exception {
        Outcome child = ChildJvm.onModulePath(ProbeNativeAccess.class, NO_FLAGS, entryPoint);
        assertThat(child.exitCode()).as("%s", child).isEqualTo(2);
        assertThat(child.value("illegalCaller")).contains("--enable-native-access=dev.panaio");
        assertThat(child.stderr()).doesNotContain(JDK_WARNING);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void shouldRefuseWithItsOwnMessageWhenTheJdkDeniesNativeAccess(String entryPoint) throws Exception {
        assumeTrue(Runtime.version().feature() >= 24, "--illegal-native-access exists from JDK 24 on; this is "
                + Runtime.version());
        // Under deny, a restricted call made while initialising a class would surface as an
        // ExceptionInInitializerError, and every later use as NoClassDefFoundError.
        assumeTrue(Runtime.version().feature() >= 24,
                "--illegal-native-access exists from JDK 24 on; this JDK is " + Runtime.version());
        Outcome child = ChildJvm.onClassPath(ProbeNativeAccess.class, List.of("--illegal-native-access=deny"),
                entryPoint);
        assertThat(child.exitCode()).as("%s", child).isEqualTo(2);
        assertThat(child.value("illegalCaller")).contains("--enable-native-access=ALL-UNNAMED");
        assertThat(child.stderr()).doesNotContain("ExceptionInInitializerError").doesNotContain("NoClassDefFoundError");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("openingEntryPoints")
    void shouldWorkSilentlyWithTheFlag(String entryPoint) throws Exception {
        Outcome child = ChildJvm.onClassPath(ProbeNativeAccess.class,
                List.of("--enable-native-access=ALL-UNNAMED"), entryPoint);
        assertThat(child.exitCode()).as("%s", child).isZero();
        assertThat(child.value("opened")).isEqualTo("true");
        assertThat(child.stderr()).doesNotContain(JDK_WARNING);
    }
}
