package dev.panaio.internal.sys;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ArchitectureTest {
    @Test
    void shouldKnowLinuxOnX8664AndAarch64UnderEveryNameTheJvmUses() {
        assertThat(Architecture.detect("Linux", "amd64")).isEqualTo(Architecture.X86_64);
        assertThat(Architecture.detect("Linux", "x86_64")).isEqualTo(Architecture.X86_64);
        assertThat(Architecture.detect("Linux", "aarch64")).isEqualTo(Architecture.AARCH64);
        assertThat(Architecture.detect("Linux", "arm64")).isEqualTo(Architecture.AARCH64);
    }

    @Test
    void shouldKnowNothingOfOtherSystemsOrArchitectures() {
        assertThat(Architecture.detect("Linux", "riscv64")).isNull();
        assertThat(Architecture.detect("Linux", "ppc64le")).isNull();
        assertThat(Architecture.detect("Mac OS X", "aarch64")).isNull();
        assertThat(Architecture.detect("Windows 11", "amd64")).isNull();
    }

    @Test
    void shouldNameTheSystemAndArchitectureItCannotSupport() {
        assertThat(Architecture.unsupported("Linux", "riscv64"))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("Linux/riscv64")
                .hasMessageContaining("x86_64 and aarch64");
        assertThat(Architecture.unsupported("Mac OS X", "aarch64")).hasMessageContaining("Mac OS X/aarch64");
    }

    @Test
    void shouldUseTheSyscallTableOfTheMachineItRunsOn() {
        String arch = System.getProperty("os.arch");
        assumeTrue(arch.equals("amd64") || arch.equals("aarch64"), "no expectation written for " + arch);
        assertThat(Architecture.current())
                .isEqualTo(arch.equals("amd64") ? Architecture.X86_64 : Architecture.AARCH64)
                .isSameAs(Syscalls.architecture());
        // The one number every libc agrees on: io_setup on x86_64 is 206, on asm-generic 0.
        assertThat(Architecture.current().ioSetup).isEqualTo(arch.equals("amd64") ? 206 : 0);
    }
}
