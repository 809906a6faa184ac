package dev.panaio;

import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.ChildJvm.Outcome;
import dev.panaio.testing.LuceneWorkload;
import dev.panaio.testing.child.LuceneOnDefaultProvider;
import org.apache.lucene.store.NIOFSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Apache Lucene from Maven Central, a library that reads its index through
 * {@code FileChannel.open} ({@link NIOFSDirectory}), indexing, checking and
 * searching on {@link AioFileSystemProvider}: with the same results as on the
 * platform's provider, used for one directory ({@link AioFileSystemProvider#wrap})
 * and installed as the default provider in a child JVM.
 */
class AioFileSystemProviderLuceneTest {
    private static final String INSTALL = "-Djava.nio.file.spi.DefaultFileSystemProvider="
            + AioFileSystemProvider.class.getName();

    @TempDir
    Path dir;

    @Test
    void shouldIndexAndSearchAsOnThePlatformProviderInOneDirectory() throws IOException {
        Path platformIndex = Files.createDirectory(dir.resolve("platform"));
        Path panaioIndex = AioFileSystemProvider.wrap(Files.createDirectory(dir.resolve("panaio")));

        List<String> onPlatform = LuceneWorkload.indexAndSearch(platformIndex);
        List<String> onPanaio = LuceneWorkload.indexAndSearch(panaioIndex);

        assertThat(onPanaio).first().isEqualTo("clean=true");
        assertThat(onPanaio).hasSize(7).isEqualTo(onPlatform);
        assertThat(onPanaio.get(1)).startsWith("numDocs=598 "); // 600 indexed, 2 deleted
        assertThat(onPanaio).allMatch(line -> !line.contains("hits=0 "));
        assertThat(LuceneWorkload.channelClassOfAnInput(panaioIndex)).isEqualTo(AioFileChannel.class.getName());
        assertThat(LuceneWorkload.channelClassOfAnInput(platformIndex)).isEqualTo("sun.nio.ch.FileChannelImpl");
    }

    @Test
    void shouldIndexAndSearchAsOnThePlatformProviderWhenInstalledAsTheDefault() throws Exception {
        Outcome platform = runLucene("platform", List.of("--enable-native-access=ALL-UNNAMED"));
        Outcome panaio = runLucene("panaio", List.of(INSTALL, "--enable-native-access=ALL-UNNAMED"));

        assertThat(panaio.value("provider")).isEqualTo(AioFileSystemProvider.class.getName());
        assertThat(panaio.value("channel")).isEqualTo(AioFileChannel.class.getName());
        assertThat(platform.value("channel")).isEqualTo("sun.nio.ch.FileChannelImpl");
        assertThat(panaio.value("result.0")).isEqualTo("clean=true");
        assertThat(results(panaio)).hasSize(7).isEqualTo(results(platform));
    }

    private Outcome runLucene(String name, List<String> jvmOptions) throws IOException, InterruptedException {
        Path empty = Files.createDirectory(dir.resolve(name));
        Outcome child = ChildJvm.onClassPath(LuceneOnDefaultProvider.class, List.of(luceneJar()), jvmOptions,
                empty.toString());
        assertThat(child.exitCode()).as("%s", child).isZero();
        return child;
    }

    private static List<String> results(Outcome child) {
        return child.stdout().lines().filter(line -> line.startsWith("result.")).toList();
    }

    private static Path luceneJar() {
        try {
            return Path.of(NIOFSDirectory.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
