package dev.panaio;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The typed refusal of a file operation the filesystem lacks: the call, the errno and the filesystem named. */
class FileOperationUnsupportedExceptionTest {
    /** procfs files have no fallocate: EOPNOTSUPP, typed, naming the filesystem. */
    @Test
    void shouldNameTheFilesystemThatCannotPreallocate() throws IOException {
        Path comm = Path.of("/proc/self/comm");
        try (AioFile file = AioFile.open(comm, WRITE)) {
            assertThatThrownBy(() -> file.preallocate(0, 4096, true))
                    .isInstanceOfSatisfying(FileOperationUnsupportedException.class, e -> {
                        assertThat(e.filesystemType()).isEqualTo("proc");
                        assertThat(e.errnoName()).isEqualTo("EOPNOTSUPP");
                        assertThat(e.call()).isEqualTo("fallocate");
                    })
                    .hasMessageStartingWith("fallocate(/proc/self/comm, mode=0x1, offset=0, len=4096) failed: "
                            + "EOPNOTSUPP (")
                    .hasMessageEndingWith("the filesystem of /proc/self/comm (proc) does not support it");
            assertThatThrownBy(() -> file.punchHole(0, 4096))
                    .isInstanceOf(FileOperationUnsupportedException.class)
                    .hasMessageContaining("mode=0x3");
        }
    }
}
