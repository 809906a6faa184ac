package dev.panaio.internal.channel;

import dev.panaio.internal.engine.CachedThreads;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;

/**
 * Where an asynchronous channel opened without an executor runs its
 * CompletionHandlers and its blocking lock requests: one process-wide
 * {@linkplain CachedThreads cached pool}, as the JDK's default thread pool for
 * asynchronous channels, so a handler that blocks never holds up another.
 *
 * <p>As the JDK's default pool does, it takes its threads from the
 * {@link ThreadFactory} class named by the system property
 * {@value #THREAD_FACTORY_PROPERTY}, when set (loaded with the system class
 * loader, made with its public no-argument constructor); otherwise its threads
 * are daemons named {@code panaio-handler-N}.
 *
 * <p>Thread-safe.
 */
public final class DefaultHandlerExecutor {
    /** The JDK's property naming the default pool's thread factory. */
    public static final String THREAD_FACTORY_PROPERTY = "java.nio.channels.DefaultThreadPool.threadFactory";

    private DefaultHandlerExecutor() {
    }

    private static final class Holder {
        static final ExecutorService POOL = CachedThreads.pool(threadFactory());
    }

    /** The pool, made on first use; it lives as long as the process. */
    public static ExecutorService get() {
        return Holder.POOL;
    }

    private static ThreadFactory threadFactory() {
        String name = System.getProperty(THREAD_FACTORY_PROPERTY);
        if (name == null) {
            return CachedThreads.daemons("panaio-handler-");
        }
        try {
            Class<?> type = Class.forName(name, true, ClassLoader.getSystemClassLoader());
            return (ThreadFactory) type.getConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            // The JDK's default pool fails the same way: the property names a factory that cannot be made.
            throw new Error("cannot make the thread factory " + name + " named by " + THREAD_FACTORY_PROPERTY, e);
        }
    }
}
