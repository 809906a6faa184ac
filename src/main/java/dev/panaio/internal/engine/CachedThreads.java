package dev.panaio.internal.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one shape of panaio's process-wide pools for caller code: like the
 * JDK's default {@code AsynchronousChannelGroup}, an unbounded cached pool
 * in which a thread is made only when none is idle and idle ones end after
 * a minute, so a task that blocks never holds up another.
 *
 * <p>Thread-safe.
 */
public final class CachedThreads {
    private CachedThreads() {
    }

    /** A new cached pool whose threads {@code factory} makes. */
    public static ExecutorService pool(ThreadFactory factory) {
        return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), factory);
    }

    /** Platform daemon threads named {@code prefix} and a count from 1. */
    public static ThreadFactory daemons(String prefix) {
        return Thread.ofPlatform().daemon().name(prefix, 1).factory();
    }
}
