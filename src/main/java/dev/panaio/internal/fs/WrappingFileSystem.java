package dev.panaio.internal.fs;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The file system of a wrapping provider: another file system's paths, each
 * wrapped in a {@link WrappingPath} that reports this file system and so the
 * wrapping provider. Everything else is the wrapped file system's.
 *
 * <p>Thread-safe, as the wrapped file system is.
 */
public final class WrappingFileSystem extends FileSystem {
    private final FileSystemProvider provider;
    private final FileSystem delegate;

    /**
     * @param provider the wrapping provider, which this file system reports
     * @param delegate the file system whose paths it wraps
     */
    public WrappingFileSystem(FileSystemProvider provider, FileSystem delegate) {
        this.provider = provider;
        this.delegate = delegate;
    }

    /** The wrapped file system. */
    public FileSystem delegate() {
        return delegate;
    }

    /** {@code path} wrapped, or null for null. */
    public Path wrap(Path path) {
        return path == null ? null : new WrappingPath(this, path);
    }

    @Override
    public FileSystemProvider provider() {
        return provider;
    }

    /** As the wrapped file system's: the default file system cannot be closed. */
    @Override
    public void close() throws IOException {
        delegate.close();
    }

    @Override
    public boolean isOpen() {
        return delegate.isOpen();
    }

    @Override
    public boolean isReadOnly() {
        return delegate.isReadOnly();
    }

    @Override
    public String getSeparator() {
        return delegate.getSeparator();
    }

    @Override
    public Iterable<Path> getRootDirectories() {
        List<Path> roots = new ArrayList<>();
        for (Path root : delegate.getRootDirectories()) {
            roots.add(wrap(root));
        }
        return roots;
    }

    @Override
    public Iterable<FileStore> getFileStores() {
        return delegate.getFileStores();
    }

    @Override
    public Set<String> supportedFileAttributeViews() {
        return delegate.supportedFileAttributeViews();
    }

    @Override
    public Path getPath(String first, String... more) {
        return wrap(delegate.getPath(first, more));
    }

    /** The wrapped file system's matcher, given the wrapped paths. */
    @Override
    public PathMatcher getPathMatcher(String syntaxAndPattern) {
        PathMatcher matcher = delegate.getPathMatcher(syntaxAndPattern);
        return path -> matcher.matches(WrappingPath.unwrap(path));
    }

    @Override
    public UserPrincipalLookupService getUserPrincipalLookupService() {
        return delegate.getUserPrincipalLookupService();
    }

    @Override
    public WatchService newWatchService() throws IOException {
        return new WrappingWatchService(this, delegate.newWatchService());
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
