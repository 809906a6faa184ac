package dev.panaio;

import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.ChildJvm.Outcome;
import dev.panaio.testing.TestData;
import dev.panaio.testing.child.ProbeChannelNativeAccess;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 8, §3: the entry points a drop-in user calls first (the channels'
 * {@code open}) and the engine's, without {@code --enable-native-access}, give
 * panaio's own {@link IllegalCallerException} naming the flag, before any
 * restricted method runs. Each case runs in a fresh JVM (see
 * {@link dev.panaio.internal.sys.NativeAccessTest} for the other entry points).
 */
class ChannelNativeAccessTest {
    private static final List<String> NO_FLAGS = List.of();
    private static final String JDK_WARNING = "A restricted method";

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void createFile() throws IOException {
        file = TestData.writeFile(dir.resolve("f"), 8192, 1);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"filechannel", "asyncchannel", "engine", "engine-builder", "shared-engine"})
    void shouldRefuseOnTheClassPathNamingAllUnnamed(String entryPoint) throws Exception {
        Outcome child = ChildJvm.onClassPath(ProbeChannelNativeAccess.class, NO_FLAGS, entryPoint, file.toString());
        assertThat(child.exitCode()).as("%s", child).isEqualTo(2);
        assertThat(child.value("illegalCaller")).contains("--enable-native-access=ALL-UNNAMED");
        assertThat(child.stderr()).as("the JDK's warning means a restricted call ran first").doesNotContain(JDK_WARNING);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"filechannel", "asyncchannel", "engine", "engine-builder", "shared-engine"})
    void shouldRefuseOnTheModulePathNamingTheModule(String entryPoint) throws Exception {
        Outcome child = ChildJvm.onModulePath(ProbeChannelNativeAccess.class, NO_FLAGS, entryPoint, file.toString());
        assertThat(child.exitCode()).as("%s", child).isEqualTo(2);
        assertThat(child.value("illegalCaller")).contains("--enable-native-access=dev.panaio");
        assertThat(child.stderr()).doesNotContain(JDK_WARNING);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"filechannel", "asyncchannel", "engine", "engine-builder", "shared-engine"})
    void shouldRefuseWithItsOwnMessageWhenTheJdkDeniesNativeAccess(String entryPoint) throws Exception {
        assumeTrue(Runtime.version().feature() >= 24, "--illegal-native-access exists from JDK 24 on");
        Outcome child = ChildJvm.onClassPath(ProbeChannelNativeAccess.class,
                List.of("--illegal-native-access=deny"), entryPoint, file.toString());
        assertThat(child.exitCode()).as("%s", child).isEqualTo(2);
        assertThat(child.value("illegalCaller")).contains("--enable-native-access=ALL-UNNAMED");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"filechannel", "asyncchannel", "engine", "engine-builder", "shared-engine"})
    void shouldWorkSilentlyWithTheFlag(String entryPoint) throws Exception {
        Outcome child = ChildJvm.onClassPath(ProbeChannelNativeAccess.class,
                List.of("--enable-native-access=ALL-UNNAMED"), entryPoint, file.toString());
        assertThat(child.exitCode()).as("%s", child).isZero();
        assertThat(child.value("opened")).isEqualTo("true");
        assertThat(child.stderr()).doesNotContain(JDK_WARNING);
    }
}
