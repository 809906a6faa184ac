package dev.panaio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * An engine's submission of one batch: its duration is the time spent in
 * {@code io_submit} (with the retries of a full ring). Committed on the
 * engine thread, or on the submitting thread for the one request an idle
 * engine lets its caller submit; JDK-style 20 ms default threshold.
 */
@Name("dev.panaio.SubmitBatch")
@Label("AIO Submit Batch")
@Category({"Java Application", "panaio"})
@Description("An AioEngine submitting a batch of requests with io_submit (on an idle engine, its caller)")
@Threshold("20 ms")
@StackTrace(false)
public final class SubmitBatchEvent extends Event {
    private static final SubmitBatchEvent PROBE = new SubmitBatchEvent();

    /** Whether a recording has the event enabled; calling it also loads and registers the class early. */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }

    @Label("Requests")
    @Description("Requests in the batch")
    public int requests;

    @Label("Submitted")
    @Description("Requests the kernel accepted")
    public int submitted;

    /** An event begun now, or null when the event is not enabled (one branch). */
    public static SubmitBatchEvent beginIfEnabled(int requests) {
        if (!PROBE.isEnabled()) {
            return null;
        }
        SubmitBatchEvent event = new SubmitBatchEvent();
        event.requests = requests;
        event.begin();
        return event;
    }

    /** Ends the event and commits it if it passes the threshold. */
    public void complete(int submitted) {
        end();
        if (shouldCommit()) {
            this.submitted = submitted;
            commit();
        }
    }
}
