package dev.panaio;

import dev.panaio.internal.fs.ChannelRouter;
import dev.panaio.internal.fs.WrappingDirectoryStream;
import dev.panaio.internal.fs.WrappingFileSystem;
import dev.panaio.internal.fs.WrappingPath;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.spi.FileSystemProvider;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * The {@code file} scheme on panaio's channels: a {@link FileSystemProvider}
 * that wraps another one (the platform's) and opens files with
 * {@link AioFileChannel} and {@link AioAsynchronousFileChannel}, so that code
 * which opens its own channels, a library's included, runs on panaio
 * unchanged.
 *
 * <h2>As the default provider</h2>
 * Install it for the whole JVM with the JDK's own property; nothing in the
 * application changes:
 * {@snippet lang=sh :
 * java -Djava.nio.file.spi.DefaultFileSystemProvider=dev.panaio.AioFileSystemProvider \
 *      --enable-native-access=ALL-UNNAMED -cp app.jar:panaio.jar com.example.Main
 * }
 * The JDK then makes it with {@link #AioFileSystemProvider(FileSystemProvider)},
 * handing it the platform's provider, and every {@code Path.of},
 * {@code File.toPath} and {@code FileSystems.getDefault()} path is one of its
 * own: {@code FileChannel.open(path)}, {@code Files.newByteChannel(path)} and
 * {@code AsynchronousFileChannel.open(path)} return panaio's channels. On the
 * module path, the module must be resolved ({@code --add-modules dev.panaio}
 * if nothing requires it) and the flag is
 * {@code --enable-native-access=dev.panaio}.
 *
 * <p>The JDK makes the default provider early, before or during {@code main}:
 * the constructor only records the provider it wraps. panaio's native layer
 * and {@linkplain AioEngine#shared() shared engine} start at the first channel
 * open. If native access is not enabled, that first open logs one warning
 * (through {@link System.Logger}, naming the flag) and this provider opens
 * every file with the wrapped provider's channels from then on: adding the
 * property alone never breaks an application.
 *
 * <h2>For one directory tree</h2>
 * Without replacing the default, {@link #wrap(Path)} gives a path whose every
 * resolved, listed or walked path opens on panaio: hand it to a library that
 * takes a directory.
 * {@snippet :
 * Path index = AioFileSystemProvider.wrap(Path.of("/var/lib/search/index"));
 * try (FileChannel channel = FileChannel.open(index.resolve("segments_1"), READ)) {
 *     // an AioFileChannel
 * }
 * }
 * Here native access is required: without it the open throws panaio's
 * {@code IllegalCallerException} naming the flag.
 *
 * <h2>What opens on panaio, and what does not</h2>
 * {@code newFileChannel}, {@code newByteChannel} and
 * {@code newAsynchronousFileChannel} open a <em>regular</em> file (or one
 * they create) on panaio, with the options panaio's channels take: READ,
 * WRITE, APPEND, CREATE, CREATE_NEW, TRUNCATE_EXISTING, SPARSE, DSYNC, SYNC,
 * DELETE_ON_CLOSE, {@code LinkOption.NOFOLLOW_LINKS},
 * {@link com.sun.nio.file.ExtendedOpenOption#DIRECT},
 * {@link PanaioOpenOption#STRICT_ALIGNMENT} and
 * {@link PanaioOpenOption#INLINE_COMPLETION}. Any other option, and any
 * directory, FIFO, device or socket, opens with the wrapped provider, exactly
 * as without panaio. Deciding costs one {@code stat} per open.
 *
 * <p>Everything else is the wrapped provider's, unchanged: attributes, directories,
 * copies and moves, links, file stores, watch services, and
 * {@code newInputStream} / {@code newOutputStream} (the JDK's streams over its
 * own channel). Paths given to it are unwrapped, and paths it returns are
 * wrapped. Files panaio opens never come back to this provider: panaio's
 * channels open their file on the unwrapped path, and an open made while
 * panaio is opening a file on the same thread goes to the wrapped provider.
 *
 * <p>Differences from the platform's provider are the channels' own (see
 * {@link AioFileChannel} and {@link AioAsynchronousFileChannel}); one of
 * them: with a {@code null} executor, an {@code AioAsynchronousFileChannel}
 * runs its handlers where the request completes, not on the JDK's default
 * thread pool.
 *
 * <p>Thread-safe.
 */
public final class AioFileSystemProvider extends FileSystemProvider {
    private final FileSystemProvider wrapped;
    private final WrappingFileSystem fileSystem;
    private final ChannelRouter channels;

    /**
     * Wraps {@code wrapped}: the constructor the JDK calls for
     * {@code -Djava.nio.file.spi.DefaultFileSystemProvider}. Cheap: it touches
     * neither native code nor the engine. A provider made this way falls back
     * to {@code wrapped}'s channels when native access is not enabled.
     *
     * @param wrapped a provider of the {@code file} scheme, normally the platform's
     * @throws IllegalArgumentException if {@code wrapped} is not for the {@code file} scheme
     */
    public AioFileSystemProvider(FileSystemProvider wrapped) {
        this(wrapped, true);
    }

    private AioFileSystemProvider(FileSystemProvider wrapped, boolean fallBack) {
        Objects.requireNonNull(wrapped, "wrapped");
        if (!"file".equals(wrapped.getScheme())) {
            throw new IllegalArgumentException("AioFileSystemProvider wraps a provider of the file scheme, not "
                    + wrapped.getScheme());
        }
        this.wrapped = wrapped;
        this.fileSystem = new WrappingFileSystem(this, wrapped.getFileSystem(URI.create("file:///")));
        this.channels = new ChannelRouter(wrapped, fallBack);
    }

    /**
     * {@code path} on panaio's view of the default file system: the same file,
     * but channels opened on it, or on any path resolved from it, are panaio's.
     * A path that is already panaio's is returned as it is.
     *
     * @param path a path of the default file system
     * @return the same path on panaio's file system
     * @throws ProviderMismatchException if {@code path} belongs to another file system (a zip file's, say)
     */
    public static Path wrap(Path path) {
        Objects.requireNonNull(path, "path");
        if (path.getFileSystem().provider() instanceof AioFileSystemProvider) {
            return path;
        }
        if (path.getFileSystem() != FileSystems.getDefault()) {
            throw new ProviderMismatchException("AioFileSystemProvider.wrap takes a path of the default file "
                    + "system, not of " + path.getFileSystem().provider().getScheme() + ": " + path);
        }
        return OverDefault.INSTANCE.fileSystem.wrap(path);
    }

    /** The provider {@link #wrap(Path)} uses: made on first use, since the default may be ours. */
    private static final class OverDefault {
        static final AioFileSystemProvider INSTANCE =
                new AioFileSystemProvider(FileSystems.getDefault().provider(), false);
    }

    private static Path unwrap(Path path) {
        return WrappingPath.unwrap(Objects.requireNonNull(path, "path"));
    }

    /** {@code file}. */
    @Override
    public String getScheme() {
        return "file";
    }

    /** As the wrapped provider: its file system already exists, so this throws. */
    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException {
        return wrapped.newFileSystem(uri, env);
    }

    /** As the wrapped provider (which opens no file system from a file). */
    @Override
    public FileSystem newFileSystem(Path path, Map<String, ?> env) throws IOException {
        return wrapped.newFileSystem(unwrap(path), env);
    }

    /** This provider's file system, for the URI the wrapped provider accepts ({@code file:///}). */
    @Override
    public FileSystem getFileSystem(URI uri) {
        wrapped.getFileSystem(uri); // its checks and exceptions
        return fileSystem;
    }

    /** The wrapped provider's path for {@code uri}, wrapped. */
    @Override
    public Path getPath(URI uri) {
        return fileSystem.wrap(wrapped.getPath(uri));
    }

    /** An {@link AioFileChannel} for a regular file and panaio's options; else the wrapped provider's channel. */
    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options,
                                              FileAttribute<?>... attrs) throws IOException {
        return channels.newFileChannel(unwrap(path), options, attrs);
    }

    /** An {@link AioFileChannel} for a regular file and panaio's options; else the wrapped provider's channel. */
    @Override
    public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        return channels.newFileChannel(unwrap(path), options, attrs);
    }

    /**
     * An {@link AioAsynchronousFileChannel} for a regular file and panaio's
     * options; else the wrapped provider's channel.
     *
     * @param executor where CompletionHandlers run; with null, panaio's channel runs them where the request
     *                 completes
     */
    @Override
    public AsynchronousFileChannel newAsynchronousFileChannel(Path path, Set<? extends OpenOption> options,
                                                              ExecutorService executor, FileAttribute<?>... attrs)
            throws IOException {
        return channels.newAsynchronousFileChannel(unwrap(path), options, executor, attrs);
    }

    /** The wrapped provider's stream, whose entries (and the filter's arguments) are wrapped. */
    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
            throws IOException {
        Objects.requireNonNull(filter, "filter");
        return WrappingDirectoryStream.of(fileSystem, wrapped.newDirectoryStream(unwrap(dir),
                WrappingDirectoryStream.unwrappingFilter(fileSystem, filter)));
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
        wrapped.createDirectory(unwrap(dir), attrs);
    }

    @Override
    public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) throws IOException {
        wrapped.createSymbolicLink(unwrap(link), unwrap(target), attrs);
    }

    @Override
    public void createLink(Path link, Path existing) throws IOException {
        wrapped.createLink(unwrap(link), unwrap(existing));
    }

    @Override
    public void delete(Path path) throws IOException {
        wrapped.delete(unwrap(path));
    }

    @Override
    public boolean deleteIfExists(Path path) throws IOException {
        return wrapped.deleteIfExists(unwrap(path));
    }

    @Override
    public Path readSymbolicLink(Path link) throws IOException {
        return fileSystem.wrap(wrapped.readSymbolicLink(unwrap(link)));
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
        wrapped.copy(unwrap(source), unwrap(target), options);
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
        wrapped.move(unwrap(source), unwrap(target), options);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
        return wrapped.isSameFile(unwrap(path), unwrap(path2));
    }

    @Override
    public boolean isHidden(Path path) throws IOException {
        return wrapped.isHidden(unwrap(path));
    }

    @Override
    public FileStore getFileStore(Path path) throws IOException {
        return wrapped.getFileStore(unwrap(path));
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
        wrapped.checkAccess(unwrap(path), modes);
    }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
        return wrapped.getFileAttributeView(unwrap(path), type, options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options)
            throws IOException {
        return wrapped.readAttributes(unwrap(path), type, options);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
            throws IOException {
        return wrapped.readAttributes(unwrap(path), attributes, options);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
        wrapped.setAttribute(unwrap(path), attribute, value, options);
    }

    @Override
    public boolean exists(Path path, LinkOption... options) {
        return wrapped.exists(unwrap(path), options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributesIfExists(Path path, Class<A> type, LinkOption... options)
            throws IOException {
        return wrapped.readAttributesIfExists(unwrap(path), type, options);
    }

    /** The wrapped provider's stream (the JDK's, over its own channel). */
    @Override
    public InputStream newInputStream(Path path, OpenOption... options) throws IOException {
        return wrapped.newInputStream(unwrap(path), options);
    }

    /** The wrapped provider's stream (the JDK's, over its own channel). */
    @Override
    public OutputStream newOutputStream(Path path, OpenOption... options) throws IOException {
        return wrapped.newOutputStream(unwrap(path), options);
    }

    @Override
    public String toString() {
        return "AioFileSystemProvider over " + wrapped;
    }
}
