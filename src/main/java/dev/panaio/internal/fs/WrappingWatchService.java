package dev.panaio.internal.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.Watchable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A wrapped file system's watch service, whose keys and events name wrapped
 * paths. Registering a {@link WrappingPath} with it registers the wrapped path
 * with the wrapped service (which accepts only its own file system's paths).
 *
 * <p>Thread-safe, as the wrapped service is.
 */
final class WrappingWatchService implements WatchService {
    private final WrappingFileSystem fileSystem;
    private final WatchService delegate;

    WrappingWatchService(WrappingFileSystem fileSystem, WatchService delegate) {
        this.fileSystem = fileSystem;
        this.delegate = delegate;
    }

    WatchService delegate() {
        return delegate;
    }

    WatchKey wrap(WatchKey key) {
        return key == null ? null : new WrappingWatchKey(key);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    @Override
    public WatchKey poll() {
        return wrap(delegate.poll());
    }

    @Override
    public WatchKey poll(long timeout, TimeUnit unit) throws InterruptedException {
        return wrap(delegate.poll(timeout, unit));
    }

    @Override
    public WatchKey take() throws InterruptedException {
        return wrap(delegate.take());
    }

    /**
     * A wrapped key. The service hands out a new wrapper each time, so keys are
     * equal, with equal hash codes, when they wrap the same key: a map from
     * keys to directories keeps working.
     */
    private final class WrappingWatchKey implements WatchKey {
        private final WatchKey key;

        WrappingWatchKey(WatchKey key) {
            this.key = key;
        }

        @Override
        public boolean isValid() {
            return key.isValid();
        }

        @Override
        public List<WatchEvent<?>> pollEvents() {
            List<WatchEvent<?>> events = new ArrayList<>();
            for (WatchEvent<?> event : key.pollEvents()) {
                events.add(event.context() instanceof Path path
                        ? new WrappedEvent<>(event.kind(), event.count(), fileSystem.wrap(path))
                        : event);
            }
            return events;
        }

        @Override
        public boolean reset() {
            return key.reset();
        }

        @Override
        public void cancel() {
            key.cancel();
        }

        @Override
        public Watchable watchable() {
            return key.watchable() instanceof Path path ? fileSystem.wrap(path) : key.watchable();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof WrappingWatchKey wrapping && wrapping.key.equals(key);
        }

        @Override
        public int hashCode() {
            return key.hashCode();
        }

        @Override
        public String toString() {
            return key.toString();
        }
    }

    /** An event whose context is a wrapped path. */
    private record WrappedEvent<T>(Kind<T> kind, int count, Object wrappedContext) implements WatchEvent<T> {
        @Override
        @SuppressWarnings("unchecked") // the context of a Kind<Path> event, wrapped, is still a Path
        public T context() {
            return (T) wrappedContext;
        }
    }
}
