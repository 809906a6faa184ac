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
        try {
            current.getUncaughtExceptionHandler().uncaughtException(current, failure);
        } catch (Throwable handlerFailed) {
            // The handler itself threw (or had no memory to print): there is nowhere left to report to, and the
            // caller, which may be delivering a result, must go on.
        }
    }
}
