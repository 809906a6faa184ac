package dev.panaio.bench;

/** Progress lines on stderr, so that stdout holds only results (JSON lines under --json). */
public final class Progress {
    private Progress() {
    }

    public static void say(String line) {
        System.err.println(line);
        System.err.flush();
    }
}
