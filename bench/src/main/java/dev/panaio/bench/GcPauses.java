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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The garbage collector's pauses during a run: while one lasts, every Java
 * thread of the process is stopped, so a submitting call that spans one is
 * stalled by all of it whatever the call does.
 *
 * <p>Counted from the JVM's notification at the end of each collection
 * ({@link GarbageCollectionNotificationInfo}), whose times have a resolution
 * of a millisecond. A collector whose name says it works concurrently (G1's
 * "G1 Concurrent GC") does not stop the threads for its whole duration and is
 * left out.
 *
 * <p>The JVM gives a collection's ends in milliseconds on a clock of its own.
 * {@link #start} ties that clock to {@link System#nanoTime} with a full
 * collection it times from both sides ({@code System.gc()}, which the run
 * wants anyway: see {@link MeasuredWindow#run}); each pause's ends are then
 * placed on the {@code nanoTime} clock, widened by what that tie and the
 * milliseconds leave unknown (about a millisecond in all), so that a slow
 * call can be set beside them.
 */
final class GcPauses implements NotificationListener, AutoCloseable {
    /** The most pauses whose ends are kept. */
    static final int MAX_KEPT = 10_000;

    /** One pause, on the {@code nanoTime} clock, widened to every time it could have started and ended at. */
    record Pause(long startNanos, long endNanos) {
    }

    /** Pauses counted, their sum and the longest, in ms (-1 each where unknown), and their ends. */
    record Summary(long count, long totalMillis, long longestMillis, List<Pause> pauses) {
        static final Summary UNKNOWN = new Summary(-1, -1, -1, List.of());

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
    private final List<Collection> collections = new ArrayList<>();
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
        Map<com.sun.management.GarbageCollectorMXBean, Long> before = new HashMap<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter && !gc.getName().contains("Concurrent")) {
                emitter.addNotificationListener(pauses, null, null);
                pauses.emitters.add(emitter);
            }
            if (gc instanceof com.sun.management.GarbageCollectorMXBean bean) {
                GcInfo last = bean.getLastGcInfo();
                before.put(bean, last == null ? -1 : last.getId());
            }
        }
        long n0 = System.nanoTime();
        System.gc();
        long n1 = System.nanoTime();
        for (var e : before.entrySet()) {
            GcInfo last = e.getKey().getLastGcInfo();
            if (last != null && last.getId() != e.getValue()) {
                // The collection started at or after n0 and ended at or before n1, each within its millisecond.
                long lowest = n0 - (last.getStartTime() + 1) * 1_000_000;
                long highest = n1 - last.getEndTime() * 1_000_000;
                if (highest >= lowest) {
                    pauses.offsetNanos = lowest + (highest - lowest) / 2;
                    pauses.slackNanos = (highest - lowest) / 2;
                }
                break;
            }
        }
        return pauses;
    }

    @Override
    public synchronized void handleNotification(Notification notification, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())
                || collections.size() >= MAX_KEPT) {
            return;
        }
        GcInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData()).getGcInfo();
        collections.add(new Collection(info.getStartTime(), info.getEndTime(), info.getDuration()));
    }

    /** The pauses that may have fallen between {@code fromNanos} and {@code toNanos} (nanoTime). */
    synchronized Summary summary(long fromNanos, long toNanos) {
        if (emitters.isEmpty() || slackNanos < 0) {
            return Summary.UNKNOWN;
        }
        long count = 0;
        long total = 0;
        long longest = 0;
        List<Pause> kept = new ArrayList<>();
        for (Collection c : collections) {
            Pause p = new Pause(offsetNanos + c.startMillis() * 1_000_000 - slackNanos,
                    offsetNanos + (c.endMillis() + 1) * 1_000_000 + slackNanos);
            if (p.endNanos() > fromNanos && p.startNanos() < toNanos) {
                count++;
                total += c.durationMillis();
                longest = Math.max(longest, c.durationMillis());
                kept.add(p);
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
