package dev.panaio.internal.channel;

import dev.panaio.AioFile;

import java.io.IOException;
import java.lang.ref.Cleaner;

/**
 * Closes the descriptor of a channel that was dropped without
 * {@code close()}, as the JDK's {@code FileChannel} does; an explicit close
 * runs the same action, once.
 *
 * <p>The action refers to the channel's file and locks, never to the channel,
 * or the channel could never become unreachable.
 *
 * <p>Thread-safe.
 */
public final class ChannelCleaner {
    private static final Cleaner CLEANER = Cleaner.create(Thread.ofPlatform().daemon()
            .name("panaio-channel-cleaner").factory());

    private ChannelCleaner() {
    }

    /** The action that releases a channel's locks and closes its descriptor. */
    public static final class CloseDescriptor implements Runnable {
        private final AioFile file;
        private final ChannelLocks locks;
        private volatile IOException failure;

        CloseDescriptor(AioFile file, ChannelLocks locks) {
            this.file = file;
            this.locks = locks;
        }

        @Override
        public void run() {
            locks.closeAll(); // the kernel drops OFD locks with the descriptor; the JVM's table forgets them here
            try {
                file.close();
            } catch (IOException e) {
                failure = e;
            }
        }

        /** What close(2) reported, for an explicit close to throw. */
        public IOException failure() {
            return failure;
        }
    }

    /** Registers {@code channel}: when it becomes unreachable, its locks are released and its file closed. */
    public static Cleaner.Cleanable register(Object channel, CloseDescriptor action) {
        return CLEANER.register(channel, action);
    }

    /** The action for a channel's file and locks. */
    public static CloseDescriptor closing(AioFile file, ChannelLocks locks) {
        return new CloseDescriptor(file, locks);
    }
}
