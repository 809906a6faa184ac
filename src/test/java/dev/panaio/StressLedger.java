package dev.panaio;

import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Requests of one {@link StressTest} level: each gets an id when submitted and must be delivered once, by that id.
 *
 * <p>{@link #complete} is called only where a second delivery would call it again: in an AioContext
 * CompletionConsumer (per tag) and in a CompletionHandler. A blocking call's return and a
 * CompletableFuture's callback happen once whatever panaio does below them (a future ignores a second
 * completion), so those record {@link #returned} instead, which shows a lost completion (the call or the
 * future never returns) but not a duplicate. AioEngineTest counts the engine's deliveries per request.
 *
 * <p>Any thread may call it; what goes wrong is added to the test's shared problems queue.
 */
final class StressLedger {
    final String level;
    final AtomicLong nextId = new AtomicLong();
    final AtomicLong submitted = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong returned = new AtomicLong();
    final Set<Long> outstanding = ConcurrentHashMap.newKeySet();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong syncs = new AtomicLong();
    private final Queue<String> problems;

    StressLedger(String level, Queue<String> problems) {
        this.level = level;
        this.problems = problems;
    }

    long submit() {
        long id = nextId.getAndIncrement();
        outstanding.add(id);
        submitted.incrementAndGet();
        return id;
    }

    void complete(long id) {
        completed.incrementAndGet();
        if (!outstanding.remove(id)) {
            problems.add(level + ": request " + id + " completed twice, or was never submitted");
        }
    }

    /** A blocking call returned, or a future completed: at least once, a duplicate cannot show here. */
    void returned(long id) {
        returned.incrementAndGet();
        if (!outstanding.remove(id)) {
            problems.add(level + ": request " + id + " returned twice, or was never submitted");
        }
    }

    void problem(String what) {
        problems.add(level + ": " + what);
    }

    /** Runs {@code body} and records anything it throws as a problem of this level. */
    Runnable guarded(String who, ThrowingRunnable body) {
        return () -> {
            try {
                body.run();
            } catch (Throwable t) {
                problem(who + " failed: " + t + stackTop(t));
            }
        };
    }

    private static String stackTop(Throwable t) {
        StackTraceElement[] stack = t.getStackTrace();
        return stack.length == 0 ? "" : " at " + stack[0];
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "%-28s %8d submitted %8d delivered to callbacks %8d returned (%d reads, %d writes, %d syncs)",
                level, submitted.get(), completed.get(), returned.get(), reads.get(), writes.get(), syncs.get());
    }
}
