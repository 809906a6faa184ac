package dev.panaio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guards the premise of every file test: @TempDir is on the build's disk. If
 * JUnit cannot load {@code dev.panaio.testing.BuildDirTempDirFactory} (it sits
 * in a module package that must be opened to JUnit, see the surefire argLine),
 * it only logs a warning and falls back to java.io.tmpdir, which may be tmpfs,
 * where O_DIRECT and RWF_NOWAIT do not behave as on a disk. This class lives
 * outside dev.panaio.testing on purpose: surefire opens the packages of the
 * tests it runs, which would hide the problem.
 */
class TestFilesLocationTest {
    @TempDir
    Path dir;

    @Test
    void shouldPutTemporaryDirectoriesUnderTheBuildDirectory() {
        assertThat(dir).startsWith(Path.of("target", "test-files").toAbsolutePath());
    }
}
