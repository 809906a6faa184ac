package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.ProviderMismatchException;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link AioFileSystemProvider} used explicitly, through {@link AioFileSystemProvider#wrap(Path)}:
 * the JDK's entry points on its paths open panaio's channels, and everything else
 * answers as the default file system does. Installed as the default provider, in a
 * child JVM: {@link AioFileSystemProviderDefaultTest}.
 */
class AioFileSystemProviderTest {
    private static final int SEED = 11;

    @TempDir
    Path plain;

    /** The temp dir on panaio's view of the default file system. */
    private Path dir;

    @BeforeEach
    void wrapTheTempDir() {
        dir = AioFileSystemProvider.wrap(plain);
    }

    // ------------------------------------------------------------ channels

    @Test
    void shouldOpenPanaioFileChannelsThroughFileChannelOpen() throws IOException {
        Path file = TestData.writeFile(plain.resolve("data"), 20_000, SEED);
        try (FileChannel channel = FileChannel.open(dir.resolve("data"), READ)) {
            assertThat(channel).isInstanceOf(AioFileChannel.class);
            ByteBuffer buffer = ByteBuffer.allocate(20_000);
            assertThat(channel.read(buffer, 0)).isEqualTo(20_000);
            assertThat(buffer.array()).isEqualTo(Files.readAllBytes(file));
        }
    }

    @Test
    void shouldOpenPanaioChannelsThroughFilesNewByteChannel() throws IOException {
        try (SeekableByteChannel channel = Files.newByteChannel(dir.resolve("new"), CREATE_NEW, WRITE)) {
            assertThat(channel).isInstanceOf(AioFileChannel.class);
            channel.write(ByteBuffer.wrap("written by panaio".getBytes(StandardCharsets.UTF_8)));
        }
        assertThat(Files.readString(plain.resolve("new"))).isEqualTo("written by panaio");
        try (SeekableByteChannel channel = Files.newByteChannel(dir.resolve("new"))) {
            assertThat(channel).isInstanceOf(AioFileChannel.class);
            assertThat(channel.size()).isEqualTo(17);
        }
    }

    @Test
    void shouldOpenPanaioAsynchronousChannels() throws Exception {
        TestData.writeFile(plain.resolve("data"), 8192, SEED);
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        try (AsynchronousFileChannel channel = AsynchronousFileChannel.open(dir.resolve("data"), READ)) {
            assertThat(channel).isInstanceOf(AioAsynchronousFileChannel.class);
            assertThat(channel.read(buffer, 4096).get(10, TimeUnit.SECONDS)).isEqualTo(4096);
        }
        for (int i = 0; i < 4096; i++) {
            assertThat(buffer.get(i)).isEqualTo(TestData.byteAt(4096 + i, SEED));
        }
    }

    @Test
    void shouldPassTheExecutorAndAttributesToPanaiosChannel() throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try (AsynchronousFileChannel channel = AsynchronousFileChannel.open(dir.resolve("made"),
                Set.of(CREATE_NEW, WRITE), executor,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            assertThat(channel).isInstanceOf(AioAsynchronousFileChannel.class);
            assertThat(channel.write(ByteBuffer.wrap(new byte[]{1, 2, 3}), 0).get(10, TimeUnit.SECONDS)).isEqualTo(3);
        } finally {
            executor.shutdown();
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(plain.resolve("made"))))
                .isEqualTo("rw-------");
    }

    @Test
    void shouldPassDirectIoThrough() throws IOException {
        TestData.writeFile(plain.resolve("data"), 8192, SEED);
        try (FileChannel channel = FileChannel.open(dir.resolve("data"), READ, ExtendedOpenOption.DIRECT)) {
            assertThat(channel).isInstanceOf(AioFileChannel.class);
            assertThat(((AioFileChannel) channel).isDirect()).isTrue();
            ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096).limit(4096); // 4096 bytes, wherever the allocation lands
            assertThat(channel.read(block, 0)).isEqualTo(4096);
        } catch (DirectIoUnsupportedException e) {
            assumeTrue(false, "the build directory's filesystem has no O_DIRECT: " + e.getMessage());
        }
    }

    @Test
    void shouldOpenOnPanaioTheJdkOptionsItsChannelsTake() throws IOException {
        try (FileChannel channel = FileChannel.open(dir.resolve("temporary"), CREATE_NEW, WRITE, DELETE_ON_CLOSE)) {
            assertThat(channel).isInstanceOf(AioFileChannel.class);
        }
        assertThat(Files.exists(plain.resolve("temporary"))).isFalse();
        TestData.writeFile(plain.resolve("data"), 100, SEED);
        try (FileChannel channel = FileChannel.open(dir.resolve("data"), READ, LinkOption.NOFOLLOW_LINKS)) {
            assertThat(channel).isInstanceOf(AioFileChannel.class);
        }
    }

    @Test
    void shouldOpenWithTheDefaultProviderAnOptionOfAnotherProvider() throws IOException {
        OpenOption foreign = new OpenOption() {
            @Override
            public String toString() {
                return "SOME_OTHER_PROVIDERS_OPTION";
            }
        };
        TestData.writeFile(plain.resolve("data"), 100, SEED);
        assertThatThrownBy(() -> FileChannel.open(dir.resolve("data"), READ, foreign))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void shouldOpenDirectoriesAndDevicesWithTheDefaultProvider() throws IOException {
        // Lucene fsyncs a directory by opening it for reading; a device or FIFO has no pread position.
        try (FileChannel channel = FileChannel.open(dir, READ)) {
            assertThat(channel).isNotInstanceOf(AioFileChannel.class);
            channel.force(true);
        }
        try (FileChannel channel = FileChannel.open(AioFileSystemProvider.wrap(Path.of("/dev/null")), WRITE)) {
            assertThat(channel).isNotInstanceOf(AioFileChannel.class);
            assertThat(channel.write(ByteBuffer.wrap(new byte[10]))).isEqualTo(10);
        }
    }

    @Test
    void shouldFailAsTheDefaultProviderDoes() {
        assertThatThrownBy(() -> FileChannel.open(dir.resolve("missing"), READ))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> Files.newByteChannel(dir, Set.of(CREATE_NEW, WRITE)))
                .isInstanceOf(FileAlreadyExistsException.class);
    }

    // ------------------------------------------------------------ files

    @Test
    void shouldReadAndWriteThroughFilesAsTheDefaultDoes() throws IOException {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "one\ntwo\n");
        Files.write(text, List.of("three"), java.nio.file.StandardOpenOption.APPEND);
        assertThat(Files.readAllLines(text)).containsExactly("one", "two", "three");
        assertThat(Files.readString(plain.resolve("notes.txt"))).isEqualTo("one\ntwo\nthree\n");
        try (Stream<String> lines = Files.lines(text)) {
            assertThat(lines.count()).isEqualTo(3);
        }
        assertThat(Files.size(text)).isEqualTo(14);
        assertThat(Files.mismatch(text, plain.resolve("notes.txt"))).isEqualTo(-1);
    }

    @Test
    void shouldDelegateMetadataOperations() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("a/b"));
        Path file = Files.writeString(sub.resolve("f"), "x");
        assertThat(Files.isDirectory(plain.resolve("a/b"))).isTrue();
        assertThat(Files.isRegularFile(file)).isTrue();
        assertThat(Files.exists(file)).isTrue();
        assertThat(Files.notExists(dir.resolve("nothing"))).isTrue();
        assertThat(Files.isSameFile(file, plain.resolve("a/b/f"))).isTrue();

        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        assertThat(attributes.fileKey())
                .isEqualTo(Files.readAttributes(plain.resolve("a/b/f"), BasicFileAttributes.class).fileKey());
        assertThat(Files.readAttributes(file, "unix:nlink")).containsEntry("nlink", 1);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(plain.resolve("a/b/f"))))
                .isEqualTo("rw-r-----");

        Path copy = Files.copy(file, dir.resolve("copy"));
        Path moved = Files.move(copy, dir.resolve("moved"), StandardCopyOption.ATOMIC_MOVE);
        assertThat(Files.readString(moved)).isEqualTo("x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), moved.getFileName());
        assertThat(Files.readSymbolicLink(link)).isEqualTo(dir.getFileSystem().getPath("moved"));
        assertThat(Files.readSymbolicLink(link).getFileSystem()).isSameAs(dir.getFileSystem());
        Files.createLink(dir.resolve("hard"), moved);
        assertThat(Files.isSameFile(dir.resolve("hard"), moved)).isTrue();
        Files.delete(link);
        assertThat(Files.deleteIfExists(dir.resolve("hard"))).isTrue();
        assertThat(Files.isHidden(dir.resolve(".hidden"))).isTrue();
        assertThat(Files.getFileStore(file).name()).isEqualTo(Files.getFileStore(plain).name());
    }

    @Test
    void shouldCopyBetweenPanaioAndPlainPaths() throws IOException {
        Path source = TestData.writeFile(plain.resolve("source"), 10_000, SEED);
        Files.copy(AioFileSystemProvider.wrap(source), plain.resolve("back"));
        Files.copy(source, dir.resolve("there"));
        assertThat(Files.mismatch(plain.resolve("back"), source)).isEqualTo(-1);
        assertThat(Files.mismatch(plain.resolve("there"), source)).isEqualTo(-1);
    }

    // ------------------------------------------------------------ paths

    @Test
    void shouldKeepEveryDerivedPathOnPanaio() throws IOException {
        Path file = Files.writeString(dir.resolve("x/../y.txt").normalize(), "y");
        List<Path> derived = List.of(file, file.getParent(), file.getRoot(), file.getFileName(), file.getName(0),
                file.subpath(0, 2), file.toAbsolutePath(), file.toRealPath(), file.normalize(),
                file.resolveSibling("z"), file.resolveSibling(dir.getFileSystem().getPath("z")),
                dir.relativize(file), dir.resolve(dir.relativize(file)), file.iterator().next(),
                dir.getFileSystem().getPath("/"), dir.getFileSystem().provider().getPath(file.toUri()),
                dir.getFileSystem().getRootDirectories().iterator().next());
        for (Path path : derived) {
            assertThat(path.getFileSystem().provider()).as("%s", path).isInstanceOf(AioFileSystemProvider.class);
        }
        assertThat(file.toString()).isEqualTo(plain.resolve("y.txt").toString());
        assertThat(file.toUri()).isEqualTo(plain.resolve("y.txt").toUri());
        assertThat(file.toFile()).isEqualTo(new File(plain.toFile(), "y.txt"));
        assertThat(AioFileSystemProvider.wrap(Path.of(file.toUri()))).isEqualTo(file);
    }

    @Test
    void shouldCompareAsTheWrappedPathsDo() {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertThat(a).isEqualTo(AioFileSystemProvider.wrap(plain.resolve("a")));
        assertThat(a.hashCode()).isEqualTo(plain.resolve("a").hashCode());
        assertThat(a).isNotEqualTo(plain.resolve("a"));
        assertThat(a.compareTo(b)).isEqualTo(plain.resolve("a").compareTo(plain.resolve("b")));
        assertThat(a.startsWith(dir)).isTrue();
        assertThat(a.startsWith(plain.toString())).isTrue();
        assertThat(a.endsWith(dir.getFileSystem().getPath("a"))).isTrue();
        assertThat(a.endsWith("a")).isTrue();
        assertThat(dir.isAbsolute()).isTrue();
        assertThat(a.getNameCount()).isEqualTo(plain.resolve("a").getNameCount());
        assertThat(AioFileSystemProvider.wrap(a)).isSameAs(a);
    }

    @Test
    void shouldMatchGlobsOnPanaioPaths() {
        PathMatcher matcher = dir.getFileSystem().getPathMatcher("glob:**/*.{txt,md}");
        assertThat(matcher.matches(dir.resolve("notes.txt"))).isTrue();
        assertThat(matcher.matches(dir.resolve("notes.bin"))).isFalse();
    }

    @Test
    void shouldListAndWalkPanaioPaths() throws IOException {
        Files.createDirectories(dir.resolve("d/e"));
        Files.writeString(dir.resolve("d/e/f.txt"), "f");
        Files.writeString(dir.resolve("g.txt"), "g");
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = walk.toList();
            assertThat(all).hasSize(5).allMatch(p -> p.getFileSystem() == dir.getFileSystem());
            assertThat(all).contains(dir.resolve("d/e/f.txt"));
        }
        List<Path> filtered = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.txt")) {
            stream.forEach(filtered::add);
        }
        assertThat(filtered).containsExactly(dir.resolve("g.txt"));
        List<Path> seenByFilter = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, entry -> seenByFilter.add(entry))) {
            stream.forEach(entry -> { });
        }
        assertThat(seenByFilter).containsExactlyInAnyOrder(dir.resolve("d"), dir.resolve("g.txt"));
    }

    @Test
    void shouldKeepTheDirectoryStreamSecureWhenTheDefaultsIs() throws IOException {
        Files.createDirectories(plain.resolve("d"));
        Files.writeString(plain.resolve("d/f"), "f");
        boolean defaultIsSecure;
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(plain)) {
            defaultIsSecure = stream instanceof SecureDirectoryStream;
        }
        assumeTrue(defaultIsSecure, "the default provider gives no SecureDirectoryStream here");
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            assertThat(stream).isInstanceOf(SecureDirectoryStream.class);
            @SuppressWarnings("unchecked")
            SecureDirectoryStream<Path> secure = (SecureDirectoryStream<Path>) stream;
            Path d = dir.getFileSystem().getPath("d");
            try (SecureDirectoryStream<Path> inner = secure.newDirectoryStream(d)) {
                assertThat(inner.iterator().next().getFileSystem()).isSameAs(dir.getFileSystem());
                inner.deleteFile(dir.getFileSystem().getPath("f"));
            }
            secure.deleteDirectory(d);
        }
        assertThat(Files.exists(plain.resolve("d"))).isFalse();
    }

    @Test
    void shouldReportWatchEventsOnPanaioPaths() throws Exception {
        try (WatchService watcher = dir.getFileSystem().newWatchService()) {
            WatchKey registered = dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
            Map<WatchKey, Path> directories = new HashMap<>(Map.of(registered, dir));
            Files.writeString(dir.resolve("created"), "c");
            WatchKey key = watcher.poll(10, TimeUnit.SECONDS);
            assertThat(key).as("no event within 10 s").isNotNull();
            assertThat(directories.get(key)).isEqualTo(dir);
            assertThat(key.watchable()).isEqualTo(dir);
            List<WatchEvent<?>> events = key.pollEvents();
            assertThat(events).isNotEmpty();
            Path context = (Path) events.getFirst().context();
            assertThat(context.getFileSystem()).isSameAs(dir.getFileSystem());
            assertThat(dir.resolve(context)).isEqualTo(dir.resolve("created"));
            assertThat(key.reset()).isTrue();
        }
    }

    // ------------------------------------------------------------ the provider and its file system

    @Test
    void shouldBeTheFileSchemeOverTheDefaultFileSystem() {
        FileSystem fileSystem = dir.getFileSystem();
        AioFileSystemProvider provider = (AioFileSystemProvider) fileSystem.provider();
        assertThat(provider.getScheme()).isEqualTo("file");
        assertThat(provider.getFileSystem(URI.create("file:///"))).isSameAs(fileSystem);
        assertThat(fileSystem.getSeparator()).isEqualTo("/");
        assertThat(fileSystem.isOpen()).isTrue();
        assertThat(fileSystem.isReadOnly()).isFalse();
        assertThat(fileSystem.supportedFileAttributeViews())
                .isEqualTo(FileSystems.getDefault().supportedFileAttributeViews());
        assertThatThrownBy(() -> provider.newFileSystem(URI.create("file:///"), Map.of()))
                .isInstanceOf(FileSystemAlreadyExistsException.class);
        assertThatThrownBy(fileSystem::close).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void shouldRefusePathsOfOtherFileSystems() {
        Path jrt = FileSystems.getFileSystem(URI.create("jrt:/")).getPath("/modules");
        assertThatThrownBy(() -> AioFileSystemProvider.wrap(jrt))
                .isInstanceOf(ProviderMismatchException.class)
                .hasMessageContaining("default file system").hasMessageContaining("jrt");
        assertThatThrownBy(() -> dir.resolve(jrt)).isInstanceOf(ProviderMismatchException.class);
    }

    @Test
    void shouldWrapOnlyProvidersOfTheFileScheme() {
        var jrt = FileSystems.getFileSystem(URI.create("jrt:/")).provider();
        assertThatThrownBy(() -> new AioFileSystemProvider(jrt))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("AioFileSystemProvider wraps a provider of the file scheme, not jrt");
    }

    @Test
    void shouldOpenOnPanaioThroughAProviderMadeAsTheJdkMakesIt() throws IOException {
        AioFileSystemProvider provider = new AioFileSystemProvider(FileSystems.getDefault().provider());
        Path path = provider.getPath(TestData.writeFile(plain.resolve("data"), 100, SEED).toUri());
        try (FileChannel channel = FileChannel.open(path, READ)) {
            assertThat(channel).isInstanceOf(AioFileChannel.class);
        }
        try (FileChannel channel = provider.newFileChannel(path, Set.of(CREATE, WRITE))) {
            assertThat(channel).isInstanceOf(AioFileChannel.class);
        }
    }
}
