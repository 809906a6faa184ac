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
 * Issue 8, §3: the module descriptor panaio ships. The README's own example
 * passes {@code com.sun.nio.file.ExtendedOpenOption.DIRECT} to panaio's
 * channels, so a modular consumer must read jdk.unsupported through panaio
 * ({@code requires transitive}) without adding the requirement itself.
 */
class ModuleDescriptorTest {
    private static ModuleDescriptor built() throws IOException {
        try (InputStream in = Files.newInputStream(Path.of("target", "classes", "module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    @Test
    void shouldRequireJdkUnsupportedTransitively() throws IOException {
        Requires unsupported = built().requires().stream()
                .filter(r -> r.name().equals("jdk.unsupported"))
                .findFirst().orElseThrow(() -> new AssertionError("module dev.panaio does not require jdk.unsupported"));
        assertThat(unsupported.modifiers()).contains(Requires.Modifier.TRANSITIVE);
    }

    @Test
    void shouldExportOnlyTheApiPackage() throws IOException {
        ModuleDescriptor descriptor = built();
        assertThat(descriptor.name()).isEqualTo("dev.panaio");
        assertThat(descriptor.exports()).extracting(ModuleDescriptor.Exports::source).containsExactly("dev.panaio");
    }
}
