package dev.panaio.testing.child;

import dev.panaio.testing.TestData;

import dev.panaio.AioFileChannel;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.nio.file.ExtendedOpenOption;

import static java.nio.file.StandardOpenOption.READ;

/**
 * Run in a fresh JVM by the virtual-thread tests: {@code threads} virtual
 * threads each read every block of a file through a channel, while a sampler
 * records the largest size the virtual-thread scheduler's pool reaches. A
 * pool larger than its parallelism means carriers were compensated for
 * blocking. Prints {@code parallelism=P maxPool=N reads=R mismatches=M}.
 *
 * <p>Arguments: {@code aio|jdk path threads readsPerThread}.
 */
public final class CarrierCheck {
    public static void main(String[] args) throws Exception {
        boolean aio = args[0].equals("aio");
        Path path = Path.of(args[1]);
        int threads = Integer.parseInt(args[2]);
        int readsPerThread = Integer.parseInt(args[3]);
        ObjectName scheduler = new ObjectName("jdk.management:type=VirtualThreadScheduler");
        var server = ManagementFactory.getPlatformMBeanServer();
        if (!server.isRegistered(scheduler)) {
            System.out.println("unsupported: no VirtualThreadScheduler MXBean (JDK 24+)");
            return;
        }
        int parallelism = (Integer) server.getAttribute(scheduler, "Parallelism");
        AtomicInteger maxPool = new AtomicInteger();
        AtomicLong reads = new AtomicLong();
        AtomicLong mismatches = new AtomicLong();
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    maxPool.accumulateAndGet((Integer) server.getAttribute(scheduler, "PoolSize"), Math::max);
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        long blocks;
        try (FileChannel channel = aio
                ? AioFileChannel.open(path, READ, ExtendedOpenOption.DIRECT)
                : FileChannel.open(path, READ, ExtendedOpenOption.DIRECT);
             var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            blocks = channel.size() / 4096;
            for (int t = 0; t < threads; t++) {
                int seed = t;
                executor.submit(() -> {
                    ByteBuffer block = ByteBuffer.allocateDirect(8192).alignedSlice(4096);
                    for (int i = 0; i < readsPerThread; i++) {
                        long position = ((long) (seed * 7919 + i * 104729) % blocks) * 4096;
                        block.clear();
                        channel.read(block, position);
                        reads.incrementAndGet();
                        if (block.get(17) != TestData.byteAt(position + 17, 1)) {
                            mismatches.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
        }
        sampler.interrupt();
        sampler.join();
        System.out.printf("parallelism=%d maxPool=%d reads=%d mismatches=%d%n", parallelism, maxPool.get(),
                reads.get(), mismatches.get());
    }
}
