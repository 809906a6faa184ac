package dev.panaio.bench;

/** Progress lines on stderr, so that stdout holds only results (JSON lines under --json). */
public final class Progress {
    private Progress() {
    }

    private static volatile boolean muted;

    /** Mutes or unmutes {@link #say}: for unmeasured runs, whose steps would read like measured ones. */
    static void mute(boolean mute) {
        muted = mute;
    }

    public static void say(String line) {
        if (muted) {
            return;
        }
        System.err.println(line);
        System.err.flush();
    }
}
