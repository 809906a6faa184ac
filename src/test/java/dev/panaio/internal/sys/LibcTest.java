package dev.panaio.internal.sys;

import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.ChildJvm.Outcome;
import dev.panaio.testing.child.ListLibrariesAfterIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * panaio calls the kernel through libc's {@code syscall}: libaio.so is never
 * needed, and never loaded even where it is installed. Checked in a fresh JVM,
 * whose {@code /proc/self/maps} no other test has touched.
 */
class LibcTest {
    private static final List<String> NATIVE_ACCESS = List.of("--enable-native-access=ALL-UNNAMED");
    private static final String LIBAIO = "libaio.so.1";

    @TempDir
    Path dir;

    @Test
    void shouldDoIoWithoutLoadingLibaio() throws Exception {
        Outcome child = ChildJvm.onClassPath(ListLibrariesAfterIo.class, NATIVE_ACCESS, dir.toString());
        assertThat(child.exitCode()).as("%s", child).isZero();
        assertThat(child.value("transferred")).as("a 4096-byte write and a 4096-byte read").isEqualTo("8192");
        assertThat(child.stdout()).doesNotContain("mapped=");
    }

    @Test
    void shouldSeeLibaioInTheMapsWhenSomethingElseLoadsIt() throws Exception {
        // The control for the test above: the same child, loading libaio itself, must find it mapped.
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu", LIBAIO))
                        || Files.exists(Path.of("/usr/lib/aarch64-linux-gnu", LIBAIO)),
                LIBAIO + " is not installed (Debian package libaio1), so there is nothing to load");
        Outcome child = ChildJvm.onClassPath(ListLibrariesAfterIo.class, NATIVE_ACCESS, dir.toString(), LIBAIO);
        assertThat(child.exitCode()).as("%s", child).isZero();
        assertThat(child.stdout()).contains("mapped=").contains(LIBAIO);
    }
}
