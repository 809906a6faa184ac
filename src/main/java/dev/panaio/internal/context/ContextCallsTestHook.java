package dev.panaio.internal.context;

/**
 * Where this package's tests put the {@link ContextCalls} that contexts
 * opened from then on make. Package-private, and never set outside tests:
 * contexts then make {@link ContextCalls#KERNEL}'s calls.
 */
final class ContextCallsTestHook {
    private ContextCallsTestHook() {
    }

    /** Read once per context, at open; null in production. */
    static volatile ContextCalls replacement;
}
