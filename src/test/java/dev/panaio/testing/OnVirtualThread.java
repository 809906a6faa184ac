package dev.panaio.testing;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a test's calls on a virtual thread: the blocking channel reads only
 * what the page cache answers at once there (its carrier is never held), and
 * sends the rest to the pool, where a platform thread makes its own pread.
 */
public final class OnVirtualThread {
    private OnVirtualThread() {
    }

    /** A block of test code that may throw. */
    @FunctionalInterface
    public interface Body {
        /**
         * The calls to make.
         *
         * @throws Exception whatever they throw
         */
        void run() throws Exception;
    }

    /**
     * Runs {@code body} on a new virtual thread and waits for it.
     *
     * @param body the calls
     * @throws Exception what {@code body} threw (an Error as it was)
     */
    public static void run(Body body) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread thread = Thread.ofVirtual().start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        thread.join();
        Throwable t = thrown.get();
        if (t instanceof Exception e) {
            throw e;
        } else if (t instanceof Error e) {
            throw e;
        }
    }
}
