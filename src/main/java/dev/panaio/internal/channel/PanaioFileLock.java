package dev.panaio.internal.channel;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;

/**
 * A lock held with {@code F_OFD_SETLK} on a channel's own descriptor. It is
 * valid until released or until its channel closes, as the JDK's.
 *
 * <p>Thread-safe.
 */
public final class PanaioFileLock extends FileLock {
    private final ChannelLocks locks;
    /** The table's entry, which also says whether the lock is still held (a channel's close releases it). */
    final FileLockTable.Entry entry;

    PanaioFileLock(FileChannel channel, ChannelLocks locks, long position, long size, boolean shared) {
        super(channel, position, size, shared);
        this.locks = locks;
        this.entry = new FileLockTable.Entry(locks, position, size);
    }

    PanaioFileLock(AsynchronousFileChannel channel, ChannelLocks locks, long position, long size, boolean shared) {
        super(channel, position, size, shared);
        this.locks = locks;
        this.entry = new FileLockTable.Entry(locks, position, size);
    }

    @Override
    public boolean isValid() {
        return !entry.released;
    }

    /**
     * Releases the lock ({@code F_UNLCK} on the range).
     *
     * @throws ClosedChannelException if the channel is closed, as the JDK's
     */
    @Override
    public void release() throws IOException {
        Channel channel = acquiredBy();
        if (!channel.isOpen()) {
            throw new ClosedChannelException();
        }
        if (isValid()) {
            locks.release(this);
        }
    }
}
