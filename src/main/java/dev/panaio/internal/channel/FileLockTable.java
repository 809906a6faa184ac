package dev.panaio.internal.channel;

import java.nio.channels.OverlappingFileLockException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The locks held through panaio's channels in this JVM, per file, for the
 * JDK's rule that a JVM never holds two overlapping locks on one file
 * ({@code OverlappingFileLockException}, as the JDK's own
 * {@code FileLockTable}). The kernel cannot enforce it: two compatible OFD
 * locks (two shared ones, or two on one descriptor) never conflict there.
 *
 * <p>Entries name their {@link ChannelLocks}, never a channel, so that a
 * channel dropped with locks held can still be collected and cleaned.
 *
 * <p>Thread-safe: one monitor for the whole table (lock and release are rare).
 */
final class FileLockTable {
    private FileLockTable() {
    }

    /** One lock held, or being taken, on a range of a file; released once. */
    static final class Entry {
        final ChannelLocks owner;
        final long position;
        final long size;
        volatile boolean released;

        Entry(ChannelLocks owner, long position, long size) {
            this.owner = owner;
            this.position = position;
            this.size = size;
        }

        boolean overlaps(long otherPosition, long otherSize) {
            // As FileLock.overlaps: ranges [position, position + size) with Long.MAX_VALUE as "to the end".
            if (otherPosition + otherSize <= position) {
                return false;
            }
            return position + size > otherPosition;
        }
    }

    private static final Map<DescriptorCalls.FileKey, List<Entry>> LOCKS = new HashMap<>();

    /** Records a lock about to be taken, or throws if one held in this JVM overlaps it. */
    static synchronized void add(DescriptorCalls.FileKey key, Entry entry) {
        List<Entry> held = LOCKS.computeIfAbsent(key, k -> new ArrayList<>());
        for (Entry other : held) {
            if (other.overlaps(entry.position, entry.size)) {
                throw new OverlappingFileLockException();
            }
        }
        held.add(entry);
    }

    /** Forgets a lock released or not taken. */
    static synchronized void remove(DescriptorCalls.FileKey key, Entry entry) {
        List<Entry> held = LOCKS.get(key);
        if (held != null) {
            held.removeIf(e -> e == entry);
            if (held.isEmpty()) {
                LOCKS.remove(key);
            }
        }
    }
}
