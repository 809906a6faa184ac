package dev.panaio.internal.channel;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Where an asynchronous channel opened without an executor runs its
 * CompletionHandlers and its blocking lock requests: one process-wide cached
 * pool of daemon threads, as the JDK's default thread pool for asynchronous
 * channels. Threads are made when needed and end after a minute idle, so a
 * handler that blocks never holds up another.
 *
 * <p>Thread-safe.
 */
public final class DefaultHandlerExecutor {
    private DefaultHandlerExecutor() {
    }

    private static final class Holder {
        static final ExecutorService POOL = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), Thread.ofPlatform().daemon().name("panaio-handler-", 0).factory());
    }

    /** The pool, made on first use; it lives as long as the process. */
    public static ExecutorService get() {
        return Holder.POOL;
    }
}
