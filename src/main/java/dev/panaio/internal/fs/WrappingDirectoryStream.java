package dev.panaio.internal.fs;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.util.Iterator;
import java.util.Set;

/**
 * A wrapped file system's directory stream, whose entries are wrapped paths.
 * {@link #of} keeps the wrapped stream's kind: a {@link SecureDirectoryStream}
 * (the JDK's, on Linux) stays one, so that code testing for it (recursive
 * deletes) takes the same path as without the wrapper.
 *
 * <p>Used as the wrapped stream is: its iterator by one thread.
 */
public sealed class WrappingDirectoryStream implements DirectoryStream<Path> {
    final WrappingFileSystem fileSystem;
    private final DirectoryStream<Path> delegate;

    private WrappingDirectoryStream(WrappingFileSystem fileSystem, DirectoryStream<Path> delegate) {
        this.fileSystem = fileSystem;
        this.delegate = delegate;
    }

    /** {@code delegate}, wrapped, as a secure stream if it is one. */
    public static WrappingDirectoryStream of(WrappingFileSystem fileSystem, DirectoryStream<Path> delegate) {
        return delegate instanceof SecureDirectoryStream<Path> secure
                ? new Secure(fileSystem, secure)
                : new WrappingDirectoryStream(fileSystem, delegate);
    }

    /** {@code filter}, given wrapped paths, as a filter of the wrapped file system's. */
    public static DirectoryStream.Filter<Path> unwrappingFilter(WrappingFileSystem fileSystem,
                                                                DirectoryStream.Filter<? super Path> filter) {
        return entry -> filter.accept(fileSystem.wrap(entry));
    }

    @Override
    public Iterator<Path> iterator() {
        Iterator<Path> entries = delegate.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return entries.hasNext();
            }

            @Override
            public Path next() {
                return fileSystem.wrap(entries.next());
            }

            @Override
            public void remove() {
                entries.remove();
            }
        };
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    /**
     * A wrapped {@link SecureDirectoryStream}. Its {@code newByteChannel}
     * is the wrapped stream's (opened relative to the directory, which panaio's
     * channels cannot do).
     */
    private static final class Secure extends WrappingDirectoryStream implements SecureDirectoryStream<Path> {
        private final SecureDirectoryStream<Path> secure;

        Secure(WrappingFileSystem fileSystem, SecureDirectoryStream<Path> secure) {
            super(fileSystem, secure);
            this.secure = secure;
        }

        @Override
        public SecureDirectoryStream<Path> newDirectoryStream(Path path, LinkOption... options) throws IOException {
            return new Secure(fileSystem, secure.newDirectoryStream(WrappingPath.unwrap(path), options));
        }

        @Override
        public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options,
                                                  FileAttribute<?>... attrs) throws IOException {
            return secure.newByteChannel(WrappingPath.unwrap(path), options, attrs);
        }

        @Override
        public void deleteFile(Path path) throws IOException {
            secure.deleteFile(WrappingPath.unwrap(path));
        }

        @Override
        public void deleteDirectory(Path path) throws IOException {
            secure.deleteDirectory(WrappingPath.unwrap(path));
        }

        @Override
        public void move(Path srcpath, SecureDirectoryStream<Path> targetdir, Path targetpath) throws IOException {
            SecureDirectoryStream<Path> target = targetdir instanceof Secure wrapping ? wrapping.secure : targetdir;
            secure.move(WrappingPath.unwrap(srcpath), target, WrappingPath.unwrap(targetpath));
        }

        @Override
        public <V extends FileAttributeView> V getFileAttributeView(Class<V> type) {
            return secure.getFileAttributeView(type);
        }

        @Override
        public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type,
                                                                    LinkOption... options) {
            return secure.getFileAttributeView(WrappingPath.unwrap(path), type, options);
        }
    }
}
