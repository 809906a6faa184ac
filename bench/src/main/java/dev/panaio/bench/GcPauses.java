package dev.panaio.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;

import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The garbage collector's pauses during a run: while one lasts, every Java
 * thread of the process is stopped, so a submitting call that spans one is
 * stalled by all of it whatever the call does.
 *
 * <p>Counted from the JVM's notification at the end of each collection
 * ({@link GarbageCollectionNotificationInfo}), whose times have a resolution
 * of a millisecond. Every collector's notifications are pauses except those of
 * ZGC's and Shenandoah's "... Cycles" collectors, which run concurrently
 * (their pauses have collectors of their own); G1's "G1 Concurrent GC"
 * reports its Remark and Cleanup pauses, and is counted.
 *
 * <p>The JVM gives a collection's ends in milliseconds on a clock of its own.
 * {@link #start} ties that clock to {@link System#nanoTime} with a full
 * collection it times from both sides ({@code System.gc()}, which the run
 * wants anyway: see {@link MeasuredWindow#run}); each pause's ends are then
 * placed on the {@code nanoTime} clock, widened by what that tie and the
 * milliseconds leave unknown and by {@link #SAFEPOINT_MARGIN_NANOS} at each
 * end, since the threads stop before the collection starts and resume after
 * it ends; a slow call can then be set beside them.
 */
final class GcPauses implements NotificationListener, AutoCloseable {
    /** The most pauses whose ends are kept. */
    static final int MAX_KEPT = 10_000;
    /**
     * How much earlier than its start and later than its end a collection
     * may stop threads: reaching the safepoint and leaving it, which the
     * JVM's times leave out (0.6 and 1.4 ms at most in a run of this
     * project's machine under contention, {@code -Xlog:safepoint}).
     */
    static final long SAFEPOINT_MARGIN_NANOS = 2_000_000;
    /** How long {@link #summary} waits for the notifications of collections already counted. */
    private static final long NOTIFICATION_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** One pause, on the {@code nanoTime} clock, widened to every time it could have stopped threads. */
    record Pause(long startNanos, long endNanos) {
    }

    /**
     * The pauses that fell in a window: how many, their sum and the longest,
     * in ms (-1 each where unknown); and the ends of every pause from the
     * window's start on, for calls that end after it.
     */
    record Summary(long count, long totalMillis, long longestMillis, List<Pause> pauses) {
        static final Summary UNKNOWN = new Summary(-1, -1, -1, List.of());

        /** Whether the pauses are known. */
        boolean known() {
            return count >= 0;
        }

        /** Whether a call from {@code startNanos} to {@code endNanos} (nanoTime) may have overlapped a pause. */
        boolean overlaps(long startNanos, long endNanos) {
            for (Pause p : pauses) {
                if (startNanos < p.endNanos() && endNanos > p.startNanos()) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A collection as notified: its ends on the JVM's clock, in ms, and its duration. */
    private record Collection(long startMillis, long endMillis, long durationMillis) {
    }

    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final List<GarbageCollectorMXBean> beans = new ArrayList<>();
    private final List<Collection> collections = new ArrayList<>();
    /** Notifications received, kept or not. Guarded by this. */
    private long notified;
    /** The listened collectors' collection count when listening began. */
    private long countAtStart;
    /** {@code nanoTime} of the JVM clock's 0 ms, and how far off it may be. */
    private long offsetNanos;
    private long slackNanos = -1;

    private GcPauses() {
    }

    /**
     * Starts listening, then runs a full collection and ties the JVM's clock
     * to {@code nanoTime} with it. Without notifications or a report of that
     * collection, no pause is counted ({@link Summary#UNKNOWN}).
     */
    static GcPauses start() {
        GcPauses pauses = new GcPauses();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter && !gc.getName().endsWith("Cycles")) {
                emitter.addNotificationListener(pauses, null, null);
                pauses.emitters.add(emitter);
                pauses.beans.add(gc);
            }
        }
        pauses.countAtStart = pauses.collectionCount();
        // Read before the snapshot and after the re-reads: every collection that changed a bean's last report
        // then lies between n0 and n1 (this thread cannot read a clock while a collection stops it).
        long n0 = System.nanoTime();
        List<Long> before = new ArrayList<>();
        for (GarbageCollectorMXBean gc : pauses.beans) {
            before.add(gc instanceof com.sun.management.GarbageCollectorMXBean bean && bean.getLastGcInfo() != null
                    ? bean.getLastGcInfo().getId() : -1L);
        }
        System.gc();
        List<GcInfo> after = new ArrayList<>();
        for (GarbageCollectorMXBean gc : pauses.beans) {
            after.add(gc instanceof com.sun.management.GarbageCollectorMXBean bean ? bean.getLastGcInfo() : null);
        }
        long n1 = System.nanoTime();
        long lowest = Long.MIN_VALUE;
        long highest = Long.MAX_VALUE;
        for (int i = 0; i < after.size(); i++) {
            GcInfo last = after.get(i);
            if (last != null && last.getId() != before.get(i)) {
                // It started at or after n0 and ended at or before n1, each somewhere within its millisecond.
                lowest = Math.max(lowest, n0 - (last.getStartTime() + 1) * 1_000_000);
                highest = Math.min(highest, n1 - last.getEndTime() * 1_000_000);
            }
        }
        if (lowest != Long.MIN_VALUE && highest >= lowest) {
            pauses.offsetNanos = lowest + (highest - lowest) / 2;
            pauses.slackNanos = (highest - lowest) / 2;
        }
        return pauses;
    }

    private long collectionCount() {
        long count = 0;
        for (GarbageCollectorMXBean gc : beans) {
            count += Math.max(0, gc.getCollectionCount());
        }
        return count;
    }

    @Override
    public synchronized void handleNotification(Notification notification, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
            return;
        }
        notified++;
        if (collections.size() < MAX_KEPT) {
            GcInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData())
                    .getGcInfo();
            collections.add(new Collection(info.getStartTime(), info.getEndTime(), info.getDuration()));
        }
        notifyAll();
    }

    /**
     * The pauses between {@code fromNanos} and {@code toNanos} (nanoTime),
     * once the notifications of every collection counted so far have come
     * (they come from a thread of the JVM's, later; at most a second is
     * waited for them).
     */
    synchronized Summary summary(long fromNanos, long toNanos) throws InterruptedException {
        if (emitters.isEmpty() || slackNanos < 0) {
            return Summary.UNKNOWN;
        }
        long expected = collectionCount() - countAtStart;
        long deadline = System.nanoTime() + NOTIFICATION_WAIT_NANOS;
        for (long left = NOTIFICATION_WAIT_NANOS; notified < expected && left > 0;
                left = deadline - System.nanoTime()) {
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        long count = 0;
        long total = 0;
        long longest = 0;
        List<Pause> kept = new ArrayList<>();
        long margin = slackNanos + SAFEPOINT_MARGIN_NANOS;
        for (Collection c : collections) {
            Pause p = new Pause(offsetNanos + c.startMillis() * 1_000_000 - margin,
                    offsetNanos + (c.endMillis() + 1) * 1_000_000 + margin);
            if (p.endNanos() > fromNanos) {
                kept.add(p);
                if (p.startNanos() < toNanos) {
                    count++;
                    total += c.durationMillis();
                    longest = Math.max(longest, c.durationMillis());
                }
            }
        }
        return new Summary(count, total, longest, List.copyOf(kept));
    }

    @Override
    public void close() {
        for (NotificationEmitter emitter : emitters) {
            try {
                emitter.removeNotificationListener(this);
            } catch (ListenerNotFoundException e) {
                // never added
            }
        }
    }
}
