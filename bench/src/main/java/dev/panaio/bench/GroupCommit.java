package dev.panaio.bench;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit over a FileChannel: threads that have written a record wait
 * here until it is durable, and one {@code force(false)} serves every record
 * written before it began. The first waiter that finds no force under way
 * runs one itself (the leader), outside the lock; the others wait for it.
 *
 * <p>The rule that makes it correct: a force makes durable exactly the
 * records whose writes returned before it started. Each record takes a ticket
 * after its write returns; a leader notes the last ticket given out before it
 * calls force, and marks durable up to that ticket only once force returns.
 *
 * <p>Thread-safe; a {@link ReentrantLock}, so virtual threads unmount while
 * they wait.
 */
final class GroupCommit {
    private final FileChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition durableChanged = lock.newCondition();
    private long lastTicket;
    private long durableUpTo;
    private boolean forcing;
    private IOException failure;

    GroupCommit(FileChannel channel) {
        this.channel = channel;
    }

    /** Returns once the record this thread has just written is durable. */
    void awaitDurable() throws IOException {
        lock.lock();
        try {
            long ticket = ++lastTicket;
            while (durableUpTo < ticket) {
                if (failure != null) {
                    throw new IOException("a group commit's force failed: " + failure.getMessage(), failure);
                }
                if (forcing) {
                    durableChanged.awaitUninterruptibly();
                    continue;
                }
                forcing = true;
                long upTo = lastTicket;
                lock.unlock();
                IOException failed = null;
                try {
                    channel.force(false);
                } catch (IOException e) {
                    failed = e;
                } finally {
                    lock.lock();
                }
                forcing = false;
                if (failed != null) {
                    failure = failed;
                } else {
                    durableUpTo = Math.max(durableUpTo, upTo);
                }
                durableChanged.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }
}
