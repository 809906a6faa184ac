package dev.panaio.internal.channel;

import dev.panaio.internal.engine.CompletionSink;
import dev.panaio.internal.engine.UncaughtExceptions;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Delivers completions found on the calling thread without recursing. A
 * callback that starts the next read from inside the last one's callback
 * would recurse once per page-cache hit until the stack overflows; so a
 * completion found while a callback runs on this thread is deferred, and
 * delivered by the outermost one when that callback returns: the chain runs
 * as a loop. After {@link #MAX_CHAINED_DELIVERIES} the rest goes to the given
 * executor (the delivery threads, never the blocking pool, which a handler
 * may wait for), so that the thread that started the chain gets control back.
 *
 * <p>Per thread: each thread has its own queue, touched only by that thread.
 */
final class Trampoline {
    /** Completions one thread delivers in a row before it hands the rest of a chain to the pool. */
    private static final int MAX_CHAINED_DELIVERIES = 256;

    private static final ThreadLocal<Trampoline> PER_THREAD = ThreadLocal.withInitial(Trampoline::new);

    /** A result found while a callback was running, waiting for it to return: the trampoline's own entry. */
    private record Deferred(CompletionSink sink, long result) {
    }

    private boolean delivering;
    private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();

    private Trampoline() {
    }

    /** Delivers {@code result} to {@code sink} now, or after the callback running on this thread returns. */
    static void deliver(CompletionSink sink, long result, Executor pool) {
        Trampoline trampoline = PER_THREAD.get();
        Deferred entry = new Deferred(sink, result);
        if (trampoline.delivering) {
            trampoline.deferred.addLast(entry);
            return;
        }
        trampoline.deliverChain(entry, pool);
    }

    /** Delivers {@code first}, then what its callbacks defer, up to the budget; the rest continues on the pool. */
    private void deliverChain(Deferred first, Executor pool) {
        delivering = true;
        try {
            deliverOne(first);
            Deferred next;
            for (int delivered = 1; (next = deferred.pollFirst()) != null; delivered++) {
                if (delivered >= MAX_CHAINED_DELIVERIES) {
                    Deferred resume = next;
                    try {
                        pool.execute(() -> PER_THREAD.get().deliverChain(resume, pool));
                        continue; // the rest of the deque: each is the head of a chain, handed off likewise
                    } catch (RejectedExecutionException | Error noThread) {
                        // closing, or no thread for it (the pool queues nothing then): delivered here, not dropped
                        if (noThread instanceof Error) {
                            UncaughtExceptions.report(noThread);
                        }
                    }
                }
                deliverOne(next);
            }
        } finally {
            delivering = false;
            // Only if a delivery threw past deliverOne(): the deferred ones must not wait for a later chain.
            Deferred stranded;
            while ((stranded = deferred.pollFirst()) != null) {
                Deferred entry = stranded;
                try {
                    pool.execute(() -> PER_THREAD.get().deliverChain(entry, pool));
                } catch (RejectedExecutionException | Error noThread) {
                    deliverOne(entry);
                    if (noThread instanceof Error) {
                        UncaughtExceptions.report(noThread);
                    }
                }
            }
        }
    }

    private static void deliverOne(Deferred entry) {
        try {
            entry.sink().finish(entry.result());
        } catch (Throwable t) {
            // finish() reports callback failures itself; this keeps the deferred ones behind it flowing.
            UncaughtExceptions.report(t);
        }
    }
}
