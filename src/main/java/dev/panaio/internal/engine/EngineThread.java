package dev.panaio.internal.engine;

/**
 * The thread of an engine loop, of any engine: it never parks on an
 * engine's pending permits, since a callback that waits for an engine
 * thread (its own, or another engine's whose callbacks wait for this one)
 * can deadlock.
 */
final class EngineThread extends Thread {
    /** What this thread runs the next time its loop finds nothing to do. This thread only. */
    Runnable whenIdle;
    /** When {@link #whenIdle} was set, after none was (System.nanoTime). This thread only. */
    long whenIdleSince;
    /** Virtual threads whose waits this thread's reap finished, woken together after it. This thread only. */
    final RelayedWakes wakes = new RelayedWakes();

    EngineThread(Runnable loop, String name) {
        super(loop, name);
        setDaemon(true);
    }
}
