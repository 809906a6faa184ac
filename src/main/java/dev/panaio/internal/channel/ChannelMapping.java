package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.sys.FileDescriptorHandle;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * {@code map} of a panaio {@link FileChannel}: the JDK's checks, then the
 * JDK's own mapping through a transient JDK channel opened on
 * {@code /proc/self/fd/<fd>}, the same file even when it was renamed or
 * deleted. That channel is closed at once; the mapping outlives it.
 *
 * <p>Thread-safe.
 */
public final class ChannelMapping {
    private ChannelMapping() {
    }

    /** The JDK's checks of a map request's range and mode against the channel's access, after the open check. */
    public static void check(MapMode mode, long position, long size, boolean readable, boolean writable) {
        if (position < 0) {
            throw new IllegalArgumentException("Negative position");
        }
        if (size < 0) {
            throw new IllegalArgumentException("Negative size");
        }
        if (position + size < 0) {
            throw new IllegalArgumentException("Position + size overflow");
        }
        // The JDK's rule: every mode but the read-only ones needs a writable channel; all need a readable one.
        boolean readOnly = mode == MapMode.READ_ONLY || mode.toString().equals("READ_ONLY_SYNC");
        if (!readOnly && !writable) {
            throw new NonWritableChannelException();
        }
        if (!readable) {
            throw new NonReadableChannelException();
        }
    }

    /**
     * Runs {@code map} on a transient JDK channel on the file's descriptor,
     * opened for reading, and for writing too when {@code writable}.
     *
     * @throws ClosedChannelException if the file's descriptor is closed
     */
    public static <T> T throughProc(AioFile file, boolean writable, DescriptorMap<T> map) throws IOException {
        FileDescriptorHandle handle = SharedSecrets.fileAccess().handle(file);
        int fd;
        try {
            fd = handle.acquire(); // the number stays this file's while the transient channel opens it
        } catch (IllegalStateException closed) {
            throw new ClosedChannelException();
        }
        try {
            Set<OpenOption> options = writable ? Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : Set.of(StandardOpenOption.READ);
            try (FileChannel transientChannel = FileChannel.open(Path.of("/proc/self/fd/" + fd), options)) {
                return map.map(transientChannel);
            }
        } finally {
            handle.release();
        }
    }

    /** A mapping made by a JDK channel. */
    @FunctionalInterface
    public interface DescriptorMap<T> {
        /** Maps through {@code channel}. */
        T map(FileChannel channel) throws IOException;
    }
}
