package dev.panaio.internal.channel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;

/** A lock taken through the delegate channel, reporting this channel as its owner. */
public final class DelegatedFileLock extends FileLock {
    private final FileLock lock;

    public DelegatedFileLock(FileChannel owner, FileLock lock) {
        super(owner, lock.position(), lock.size(), lock.isShared());
        this.lock = lock;
    }

    public DelegatedFileLock(java.nio.channels.AsynchronousFileChannel owner, FileLock lock) {
        super(owner, lock.position(), lock.size(), lock.isShared());
        this.lock = lock;
    }

    @Override
    public boolean isValid() {
        return lock.isValid();
    }

    @Override
    public void release() throws IOException {
        lock.release();
    }
}
