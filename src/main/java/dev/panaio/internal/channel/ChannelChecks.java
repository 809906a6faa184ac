package dev.panaio.internal.channel;

import java.nio.ByteBuffer;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;

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
}
