package dev.panaio.testing.child;

import dev.panaio.AioEngine;
import dev.panaio.AioFileChannel;
import dev.panaio.testing.PageCache;
import dev.panaio.testing.TestData;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static java.nio.file.StandardOpenOption.READ;

/**
 * Run in a fresh JVM with one carrier thread
 * ({@code -Djdk.virtualThreadScheduler.parallelism=1}): {@code threads}
 * virtual threads are released together, and each makes one buffered read of
 * a page the page cache does not hold. A read that unmounts its virtual thread
 * lets the one carrier start every other thread's read before the first read
 * returns; a read that pins the carrier (a blocking call on it) returns before
 * any other thread has started. Prints
 * {@code startedWhenFirstReturned=S threads=N poolRuns=P mismatches=M}.
 *
 * <p>Arguments: {@code path threads seed}; the file holds at least {@code threads} MiB.
 */
public final class VirtualMissCheck {
    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int seed = Integer.parseInt(args[2]);
        AtomicInteger started = new AtomicInteger();
        AtomicInteger startedWhenFirstReturned = new AtomicInteger(-1);
        AtomicLong mismatches = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ), engine)) {
            PageCache.evict(path);
            try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int t = 0; t < threads; t++) {
                    long position = (long) t << 20; // 1 MiB apart: beyond readahead, every read misses
                    executor.submit(() -> {
                        go.await();
                        ByteBuffer block = ByteBuffer.allocateDirect(4096);
                        started.incrementAndGet();
                        channel.read(block, position);
                        startedWhenFirstReturned.compareAndSet(-1, started.get());
                        if (block.get(17) != TestData.byteAt(position + 17, seed)) {
                            mismatches.incrementAndGet();
                        }
                        return null;
                    });
                }
                go.countDown();
            }
            System.out.printf("startedWhenFirstReturned=%d threads=%d poolRuns=%d mismatches=%d%n",
                    startedWhenFirstReturned.get(), threads, engine.stats().poolRuns(), mismatches.get());
        }
    }
}
