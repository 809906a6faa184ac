package dev.panaio.testing.child;

import dev.panaio.AioAsynchronousFileChannel;

import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static java.nio.file.StandardOpenOption.READ;

/**
 * Run with {@code -Djava.nio.channels.DefaultThreadPool.threadFactory=} this
 * class's {@link Factory}, which throws at two of every three threads it is
 * asked for (the first two among them: the first chain runs where it was
 * started, on the main thread, and 1,024 handlers later fails to be handed
 * on once): {@value #CHAINS} chains of {@value #READS} cached reads of
 * {@code args[0]} (a small file just written) through panaio's asynchronous
 * channel, each read started by the handler of the one before, and prints
 * {@code handled=} (handler calls made), {@code expected=},
 * {@code done=} (whether every chain ended within 30 s) and
 * {@code refused=} (threads the factory refused to make). Then three reads
 * through the JDK's channel on the same factory: {@code jdkThrew=} (read
 * calls that threw the factory's exception) and {@code jdkHandled=}
 * (handlers called).
 */
public final class FailingThreadFactoryProbe {
    private FailingThreadFactoryProbe() {
    }

    private static final int CHAINS = 64;
    private static final int READS = 1500;

    /** The factory the property names: two requests for a thread in three throw. */
    public static final class Factory implements ThreadFactory {
        static final AtomicInteger ASKED = new AtomicInteger();
        static final AtomicInteger REFUSED = new AtomicInteger();

        @Override
        public Thread newThread(Runnable task) {
            if (ASKED.incrementAndGet() % 3 != 0) {
                REFUSED.incrementAndGet();
                throw new IllegalStateException("probe: no thread this time");
            }
            Thread thread = new Thread(task, "probe-thread");
            thread.setDaemon(true);
            return thread;
        }
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        AtomicLong handled = new AtomicLong();
        CountDownLatch chainsDone = new CountDownLatch(CHAINS);
        try (AsynchronousFileChannel channel = AioAsynchronousFileChannel.open(file, READ)) {
            for (int chain = 0; chain < CHAINS; chain++) {
                ByteBuffer dst = ByteBuffer.allocateDirect(512);
                CompletionHandler<Integer, Integer> next = new CompletionHandler<>() {
                    @Override
                    public void completed(Integer result, Integer n) {
                        handled.incrementAndGet();
                        if (n == READS) {
                            chainsDone.countDown();
                        } else {
                            dst.clear();
                            channel.read(dst, 512L * (n % 8), n + 1, this);
                        }
                    }

                    @Override
                    public void failed(Throwable error, Integer n) {
                        handled.incrementAndGet();
                        chainsDone.countDown(); // the chain ends: its missing calls show in the count
                    }
                };
                channel.read(dst, 0, 1, next);
            }
            boolean done = chainsDone.await(30, TimeUnit.SECONDS);
            System.out.println("handled=" + handled.get());
            System.out.println("expected=" + (long) CHAINS * READS);
            System.out.println("done=" + done);
            System.out.println("refused=" + Factory.REFUSED.get());
        }
        // The JDK's channel, on the same factory (its default pool takes the same property): three reads.
        AtomicInteger jdkHandled = new AtomicInteger();
        int jdkThrew = 0;
        try (AsynchronousFileChannel jdk = AsynchronousFileChannel.open(file, READ)) {
            for (int i = 0; i < 3; i++) {
                try {
                    jdk.read(ByteBuffer.allocate(512), 0, null, new CompletionHandler<Integer, Void>() {
                        @Override
                        public void completed(Integer result, Void attachment) {
                            jdkHandled.incrementAndGet();
                        }

                        @Override
                        public void failed(Throwable error, Void attachment) {
                            jdkHandled.incrementAndGet();
                        }
                    });
                } catch (IllegalStateException e) { // the factory's
                    jdkThrew++;
                }
            }
            Thread.sleep(1_000); // time for the handlers of the reads that did not throw
        }
        System.out.println("jdkThrew=" + jdkThrew);
        System.out.println("jdkHandled=" + jdkHandled.get());
    }
}
