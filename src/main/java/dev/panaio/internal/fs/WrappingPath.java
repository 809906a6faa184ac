package dev.panaio.internal.fs;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Objects;

/**
 * A path of a {@link WrappingFileSystem}: the wrapped file system's path,
 * reporting the wrapping file system (and so its provider), so that
 * {@code Files} and {@code FileChannel.open} come back to the wrapping
 * provider.
 *
 * <p>Paths given as arguments are unwrapped on the way in
 * ({@link #unwrap(Path)}): one of ours becomes the wrapped path, any other
 * path goes to the wrapped path as it is, which accepts its own file system's
 * paths and throws {@link java.nio.file.ProviderMismatchException} for the
 * rest, as it would without the wrapper. Paths returned are wrapped.
 *
 * <p>Immutable and thread-safe, as paths are.
 */
public final class WrappingPath implements Path {
    private final WrappingFileSystem fileSystem;
    private final Path delegate;

    WrappingPath(WrappingFileSystem fileSystem, Path delegate) {
        this.fileSystem = fileSystem;
        this.delegate = delegate;
    }

    /** The wrapped file system's path behind {@code path} if it is one of ours, else {@code path} itself. */
    public static Path unwrap(Path path) {
        return path instanceof WrappingPath wrapping ? wrapping.delegate : path;
    }

    /** The wrapped file system's path. */
    public Path delegate() {
        return delegate;
    }

    private Path wrap(Path path) {
        return fileSystem.wrap(path);
    }

    @Override
    public WrappingFileSystem getFileSystem() {
        return fileSystem;
    }

    @Override
    public boolean isAbsolute() {
        return delegate.isAbsolute();
    }

    @Override
    public Path getRoot() {
        return wrap(delegate.getRoot());
    }

    @Override
    public Path getFileName() {
        return wrap(delegate.getFileName());
    }

    @Override
    public Path getParent() {
        return wrap(delegate.getParent());
    }

    @Override
    public int getNameCount() {
        return delegate.getNameCount();
    }

    @Override
    public Path getName(int index) {
        return wrap(delegate.getName(index));
    }

    @Override
    public Path subpath(int beginIndex, int endIndex) {
        return wrap(delegate.subpath(beginIndex, endIndex));
    }

    @Override
    public boolean startsWith(Path other) {
        return delegate.startsWith(unwrap(Objects.requireNonNull(other)));
    }

    @Override
    public boolean startsWith(String other) {
        return delegate.startsWith(other);
    }

    @Override
    public boolean endsWith(Path other) {
        return delegate.endsWith(unwrap(Objects.requireNonNull(other)));
    }

    @Override
    public boolean endsWith(String other) {
        return delegate.endsWith(other);
    }

    @Override
    public Path normalize() {
        return wrap(delegate.normalize());
    }

    @Override
    public Path resolve(Path other) {
        return wrap(delegate.resolve(unwrap(other)));
    }

    @Override
    public Path resolve(String other) {
        return wrap(delegate.resolve(other));
    }

    @Override
    public Path resolveSibling(Path other) {
        return wrap(delegate.resolveSibling(unwrap(other)));
    }

    @Override
    public Path resolveSibling(String other) {
        return wrap(delegate.resolveSibling(other));
    }

    @Override
    public Path relativize(Path other) {
        return wrap(delegate.relativize(unwrap(other)));
    }

    @Override
    public URI toUri() {
        return delegate.toUri();
    }

    @Override
    public Path toAbsolutePath() {
        return wrap(delegate.toAbsolutePath());
    }

    @Override
    public Path toRealPath(LinkOption... options) throws IOException {
        return wrap(delegate.toRealPath(options));
    }

    /**
     * Always a {@link File}: the wrapped path's own {@code toFile} answers only
     * while its file system is the default, which it no longer is when the
     * wrapping provider is installed as the default.
     */
    @Override
    public File toFile() {
        return new File(delegate.toString());
    }

    @Override
    public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers)
            throws IOException {
        if (watcher instanceof WrappingWatchService wrapping) {
            return wrapping.wrap(delegate.register(wrapping.delegate(), events, modifiers));
        }
        return delegate.register(watcher, events, modifiers);
    }

    @Override
    public int compareTo(Path other) {
        return delegate.compareTo(unwrap(other));
    }

    /** Equal to a path of the same wrapping file system whose wrapped path is equal. */
    @Override
    public boolean equals(Object other) {
        return other instanceof WrappingPath path && path.fileSystem == fileSystem && path.delegate.equals(delegate);
    }

    @Override
    public int hashCode() {
        return delegate.hashCode();
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
