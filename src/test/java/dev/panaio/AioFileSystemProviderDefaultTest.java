package dev.panaio;

import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.ChildJvm.Outcome;
import dev.panaio.testing.child.RunOnDefaultProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link AioFileSystemProvider} installed as the JVM's default provider with
 * {@code -Djava.nio.file.spi.DefaultFileSystemProvider}, in child JVMs: an
 * application that knows nothing of panaio ({@link RunOnDefaultProvider})
 * gets panaio's channels from {@code FileChannel.open(Path.of(...))},
 * {@code Files.newByteChannel} and {@code AsynchronousFileChannel.open}, and
 * computes exactly what it computes on the platform's provider.
 */
class AioFileSystemProviderDefaultTest {
    private static final String INSTALL = "-Djava.nio.file.spi.DefaultFileSystemProvider="
            + AioFileSystemProvider.class.getName();
    private static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    @TempDir
    Path dir;

    private Outcome run(String name, List<String> jvmOptions) throws IOException, InterruptedException {
        Path empty = Files.createDirectory(dir.resolve(name));
        Outcome child = ChildJvm.onClassPath(RunOnDefaultProvider.class, jvmOptions, empty.toString());
        assertThat(child.exitCode()).as("%s", child).isZero();
        return child;
    }

    private static List<String> results(Outcome child) {
        return child.stdout().lines().filter(line -> line.startsWith("result.")).toList();
    }

    @Test
    void shouldGiveAnUnmodifiedApplicationPanaiosChannels() throws Exception {
        Outcome platform = run("platform", List.of(NATIVE_ACCESS));
        Outcome panaio = run("panaio", List.of(INSTALL, NATIVE_ACCESS));

        assertThat(platform.value("provider")).isEqualTo("sun.nio.fs.LinuxFileSystemProvider");
        assertThat(platform.value("fileChannel")).isEqualTo("sun.nio.ch.FileChannelImpl");
        assertThat(panaio.value("provider")).isEqualTo(AioFileSystemProvider.class.getName());
        assertThat(panaio.value("fileChannel")).isEqualTo(AioFileChannel.class.getName());
        assertThat(panaio.value("byteChannel")).isEqualTo(AioFileChannel.class.getName());
        assertThat(panaio.value("asyncChannel")).isEqualTo(AioAsynchronousFileChannel.class.getName());
        assertThat(results(panaio)).hasSize(9).isEqualTo(results(platform));
        assertThat(panaio.value("result.toFile")).isEqualTo("true");
        assertThat(panaio.stderr()).isEmpty();
    }

    @Test
    void shouldWorkOnTheModulePath() throws Exception {
        Path empty = Files.createDirectory(dir.resolve("module"));
        Outcome child = ChildJvm.onModulePath(RunOnDefaultProvider.class,
                List.of(INSTALL, "--enable-native-access=dev.panaio"), empty.toString());
        assertThat(child.exitCode()).as("%s", child).isZero();
        assertThat(child.value("fileChannel")).isEqualTo(AioFileChannel.class.getName());
        assertThat(results(child)).isEqualTo(results(run("platform", List.of(NATIVE_ACCESS))));
    }

    @Test
    void shouldFallBackToTheJdksChannelsWithOneWarningWithoutNativeAccess() throws Exception {
        Outcome platform = run("platform", List.of());
        Outcome child = run("fallback", List.of(INSTALL));

        assertThat(child.value("provider")).isEqualTo(AioFileSystemProvider.class.getName());
        assertThat(child.value("fileChannel")).isEqualTo("sun.nio.ch.FileChannelImpl");
        assertThat(child.value("asyncChannel")).isEqualTo("sun.nio.ch.SimpleAsynchronousFileChannelImpl");
        assertThat(results(child)).isEqualTo(results(platform));
        assertThat(child.stderr().lines().filter(line -> line.contains("native access is not enabled")))
                .singleElement().asString().contains("--enable-native-access=ALL-UNNAMED");
    }

    @Test
    void shouldStartWithoutTouchingNativeCodeUntilTheFirstOpen() throws Exception {
        Outcome child = run("startup", List.of(INSTALL, NATIVE_ACCESS, "-Xlog:class+load=info:stdout"));
        List<String> lines = child.stdout().lines().toList();
        int firstOpen = lines.indexOf(lines.stream().filter(line -> line.startsWith("opening=")).findFirst()
                .orElseThrow());
        List<String> loadedBefore = lines.subList(0, firstOpen).stream()
                .filter(line -> line.contains("dev.panaio.")).toList();
        assertThat(loadedBefore).anyMatch(line -> line.contains(" dev.panaio.AioFileSystemProvider "));
        assertThat(loadedBefore).noneMatch(line -> line.contains(" dev.panaio.internal.sys.")
                || line.contains(" dev.panaio.internal.engine.") || line.contains(" dev.panaio.AioEngine "));
        assertThat(lines.subList(firstOpen, lines.size()))
                .anyMatch(line -> line.contains(" dev.panaio.internal.sys.Libc "));
        assertThat(child.value("fileChannel")).isEqualTo(AioFileChannel.class.getName());
    }

    @Test
    void shouldNotRecurseWhenPanaioWrapsItself() throws Exception {
        // The outer provider opens panaio's channel on the inner provider's path, and panaio's channel opens
        // its JDK half on that path: the inner provider, seeing an open already under way on this thread,
        // hands it to the platform's provider.
        Outcome platform = run("platform", List.of(NATIVE_ACCESS));
        Outcome child = run("twice", List.of(INSTALL + "," + AioFileSystemProvider.class.getName(), NATIVE_ACCESS));
        assertThat(child.value("fileChannel")).isEqualTo(AioFileChannel.class.getName());
        assertThat(results(child)).isEqualTo(results(platform));
    }
}
