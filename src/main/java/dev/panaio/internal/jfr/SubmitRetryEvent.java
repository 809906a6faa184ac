package dev.panaio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * An {@code io_submit} that did not take the whole batch: EAGAIN (no room in
 * the kernel, retried after completions free some) or a partial acceptance.
 * An instant event, committed by the submitting thread.
 */
@Name("dev.panaio.SubmitRetry")
@Label("AIO Submit Retry")
@Category({"Java Application", "panaio"})
@Description("io_submit answered EAGAIN or accepted only part of a batch; the rest is retried")
@StackTrace(false)
public final class SubmitRetryEvent extends Event {
    private static final SubmitRetryEvent PROBE = new SubmitRetryEvent();

    /** Whether a recording has the event enabled; calling it also loads and registers the class early. */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }

    @Label("Requested")
    @Description("Requests handed to this io_submit call")
    public int requested;

    @Label("Accepted")
    @Description("Requests it accepted (0 for EAGAIN)")
    public int accepted;

    @Label("EAGAIN")
    @Description("Whether io_submit answered EAGAIN (else it accepted part of the batch)")
    public boolean eagain;

    /** Commits an instant event, if enabled. */
    public static void emit(int requested, int accepted, boolean eagain) {
        if (!PROBE.isEnabled()) {
            return;
        }
        SubmitRetryEvent event = new SubmitRetryEvent();
        event.requested = requested;
        event.accepted = accepted;
        event.eagain = eagain;
        event.commit();
    }
}
