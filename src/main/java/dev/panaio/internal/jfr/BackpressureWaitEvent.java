package dev.panaio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Threshold;

/**
 * A submitting thread parked for room in a full engine queue (maxPending
 * requests waiting): committed by that thread when it gets room or is
 * interrupted. JDK-style 20 ms default threshold.
 */
@Name("dev.panaio.BackpressureWait")
@Label("AIO Backpressure Wait")
@Category({"Java Application", "panaio"})
@Description("A thread waiting for room in a full AioEngine queue")
@Threshold("20 ms")
public final class BackpressureWaitEvent extends Event {
    private static final BackpressureWaitEvent PROBE = new BackpressureWaitEvent();

    /** Whether a recording has the event enabled; calling it also loads and registers the class early. */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }

    @Label("Max Pending")
    @Description("Requests the queue holds before submitters wait")
    public int maxPending;

    /** An event begun now, or null when the event is not enabled (one branch). */
    public static BackpressureWaitEvent beginIfEnabled(int maxPending) {
        if (!PROBE.isEnabled()) {
            return null;
        }
        BackpressureWaitEvent event = new BackpressureWaitEvent();
        event.maxPending = maxPending;
        event.begin();
        return event;
    }

    /** Ends the event and commits it if it passes the threshold. */
    public void complete() {
        end();
        if (shouldCommit()) {
            commit();
        }
    }
}
