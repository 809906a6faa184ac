package dev.panaio.internal.channel;

import java.nio.ByteBuffer;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.util.Objects;

/**
 * The JDK channels' own checks of a read or write, with the JDK's exception
 * types and messages, shared by both of panaio's channels.
 *
 * <p>Thread-safe: stateless.
 */
public final class ChannelChecks {
    private ChannelChecks() {
    }

    /** A positional read or write at a negative position is refused, as FileChannel does. */
    public static void checkPosition(long position) {
        if (position < 0) {
            throw new IllegalArgumentException("Negative position");
        }
    }

    /** A read needs a channel open for reading and a buffer that can be written. */
    public static void checkReadable(boolean readable, ByteBuffer dst) {
        if (!readable) {
            throw new NonReadableChannelException();
        }
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("Read-only buffer");
        }
    }

    /** A write needs a channel open for writing. */
    public static void checkWritable(boolean writable) {
        if (!writable) {
            throw new NonWritableChannelException();
        }
    }

    /**
     * A scattering read needs a channel open for reading and buffers that can
     * be written, every one checked before any byte moves.
     */
    public static void checkReadable(boolean readable, ByteBuffer[] dsts, int offset, int length) {
        if (!readable) {
            throw new NonReadableChannelException();
        }
        for (int i = offset; i < offset + length; i++) {
            checkReadable(true, dsts[i]); // null or read-only
        }
    }

    /** A gathering write's buffers may not be null, every one checked before any byte moves. */
    public static void checkGathering(ByteBuffer[] srcs, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            Objects.requireNonNull(srcs[i], "srcs[" + i + "]");
        }
    }
}
