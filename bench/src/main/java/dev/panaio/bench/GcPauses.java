package dev.panaio.bench;

import com.sun.management.GarbageCollectionNotificationInfo;

import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The garbage collector's pauses over the measured window: while one lasts,
 * every Java thread of the process is stopped, so a submitting call that
 * happens to span one is stalled by all of it whatever the call does.
 *
 * <p>Counted from the JVM's notification at the end of each collection
 * ({@link GarbageCollectionNotificationInfo}), whose duration has a
 * resolution of a millisecond. A collector whose name says it works
 * concurrently (G1's "G1 Concurrent GC", ZGC's cycles) does not stop the
 * threads for its whole duration and is left out.
 */
final class GcPauses implements NotificationListener, AutoCloseable {
    /** Pauses counted, their sum and the longest, in ms; -1 each where unknown. */
    record Summary(long count, long totalMillis, long longestMillis) {
        static final Summary UNKNOWN = new Summary(-1, -1, -1);
    }

    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private long count;
    private long totalMillis;
    private long longestMillis;

    /** Starts counting the pauses that end from now on. */
    static GcPauses start() {
        GcPauses pauses = new GcPauses();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter && !gc.getName().contains("Concurrent")) {
                emitter.addNotificationListener(pauses, null, null);
                pauses.emitters.add(emitter);
            }
        }
        return pauses;
    }

    @Override
    public synchronized void handleNotification(Notification notification, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
            return;
        }
        GarbageCollectionNotificationInfo info =
                GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
        long millis = info.getGcInfo().getDuration();
        count++;
        totalMillis += millis;
        longestMillis = Math.max(longestMillis, millis);
    }

    /** What was counted so far. */
    synchronized Summary summary() {
        return emitters.isEmpty() ? Summary.UNKNOWN : new Summary(count, totalMillis, longestMillis);
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
