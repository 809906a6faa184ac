package dev.panaio.testing;

import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Puts every {@code @TempDir} under {@code target/test-files}: on the build's
 * own disk filesystem, where O_DIRECT behaves as in production, rather than
 * wherever java.io.tmpdir points (which may be tmpfs, whose O_DIRECT is fake).
 */
public final class BuildDirTempDirFactory implements TempDirFactory {
    @Override
    public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext extension) throws IOException {
        Path parent = Files.createDirectories(Path.of("target", "test-files").toAbsolutePath());
        return Files.createTempDirectory(parent, "junit");
    }
}
