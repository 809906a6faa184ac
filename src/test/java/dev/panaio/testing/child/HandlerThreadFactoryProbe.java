package dev.panaio.testing.child;

import dev.panaio.AioAsynchronousFileChannel;

import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;

/**
 * Run with {@code -Djava.nio.channels.DefaultThreadPool.threadFactory=} this
 * class's {@link Factory}: reads {@code args[0]} through the JDK's and panaio's
 * asynchronous channels, opened without an executor, and prints
 * {@code jdk=} and {@code panaio=}: whether the handler ran on a thread the
 * factory made.
 */
public final class HandlerThreadFactoryProbe {
    private HandlerThreadFactoryProbe() {
    }

    /** The factory the property names; it remembers every thread it made. */
    public static final class Factory implements ThreadFactory {
        static final Set<Thread> MADE = ConcurrentHashMap.newKeySet();

        @Override
        public Thread newThread(Runnable task) {
            Thread thread = new Thread(task, "probe-factory-thread");
            thread.setDaemon(true);
            MADE.add(thread);
            return thread;
        }
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        try (AsynchronousFileChannel jdk = AsynchronousFileChannel.open(file, READ)) {
            System.out.println("jdk=" + ranOnFactoryThread(jdk));
        }
        try (AsynchronousFileChannel panaio = AioAsynchronousFileChannel.open(file, READ)) {
            System.out.println("panaio=" + ranOnFactoryThread(panaio));
        }
    }

    private static boolean ranOnFactoryThread(AsynchronousFileChannel channel) throws Exception {
        CompletableFuture<Thread> handlerThread = new CompletableFuture<>();
        channel.read(ByteBuffer.allocate(16), 0, null, new CompletionHandler<Integer, Void>() {
            @Override
            public void completed(Integer result, Void attachment) {
                handlerThread.complete(Thread.currentThread());
            }

            @Override
            public void failed(Throwable error, Void attachment) {
                handlerThread.completeExceptionally(error);
            }
        });
        return Factory.MADE.contains(handlerThread.get(10, TimeUnit.SECONDS));
    }
}
