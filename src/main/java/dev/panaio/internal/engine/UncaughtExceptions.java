package dev.panaio.internal.engine;

/**
 * Where a failure goes that no caller can receive: a throwing completion
 * handler, a future's dependent that threw synchronously, a dying engine
 * thread. Reporting it must not disturb the thread that delivered it.
 */
public final class UncaughtExceptions {
    private UncaughtExceptions() {
    }

    /** Hands {@code failure} to the current thread's uncaught-exception handler. */
    public static void report(Throwable failure) {
        Thread current = Thread.currentThread();
        current.getUncaughtExceptionHandler().uncaughtException(current, failure);
    }
}
