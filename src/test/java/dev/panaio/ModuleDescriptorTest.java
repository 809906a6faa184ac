package dev.panaio;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Requires;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The module descriptor as a modular consumer sees it: the README's own
 * example names {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}, which a
 * consumer reads only if panaio requires {@code jdk.unsupported} transitively.
 */
class ModuleDescriptorTest {
    private static ModuleDescriptor descriptor() throws IOException {
        try (InputStream in = Files.newInputStream(Path.of("target", "classes", "module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    @Test
    void shouldRequireJdkUnsupportedTransitively() throws IOException {
        Requires unsupported = descriptor().requires().stream()
                .filter(r -> r.name().equals("jdk.unsupported"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("module dev.panaio does not require jdk.unsupported"));
        assertThat(unsupported.modifiers()).contains(Requires.Modifier.TRANSITIVE);
    }

    @Test
    void shouldExportOnlyTheApiPackage() throws IOException {
        assertThat(descriptor().exports()).extracting(ModuleDescriptor.Exports::source)
                .containsExactly("dev.panaio");
    }
}
