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
 * virtual threads each make one buffered read of a page the page cache does
 * not hold, and the most reads in flight at once is counted. A read that pins
 * the carrier (a blocking call on it) lets no other thread run until it
 * returns: never more than one in flight. A read that unmounts its virtual
 * thread frees the carrier for the others' reads. Which thread the scheduler
 * runs next is its choice: a read whose disk read is done before the carrier
 * gets back to the queue may resume before the others start (under load, the
 * first read has returned with 2 of 16 started), so the count, not the order,
 * is what tells. Prints
 * {@code maxInFlight=F threads=N poolRuns=P mismatches=M}.
 *
 * <p>Arguments: {@code path threads seed}; the file holds at least {@code threads} MiB.
 */
public final class VirtualMissCheck {
    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int seed = Integer.parseInt(args[2]);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        AtomicLong mismatches = new AtomicLong();
        CountDownLatch allHere = new CountDownLatch(threads);
        try (AioEngine engine = AioEngine.open();
             AioFileChannel channel = AioFileChannel.open(path, Set.of(READ), engine)) {
            PageCache.evict(path);
            try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int t = 0; t < threads; t++) {
                    long position = (long) t << 20; // 1 MiB apart: beyond readahead, every read misses
                    executor.submit(() -> {
                        ByteBuffer block = ByteBuffer.allocateDirect(4096);
                        allHere.countDown();
                        allHere.await(); // all runnable before the reads begin
                        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                        channel.read(block, position);
                        inFlight.decrementAndGet();
                        if (block.get(17) != TestData.byteAt(position + 17, seed)) {
                            mismatches.incrementAndGet();
                        }
                        return null;
                    });
                }
            }
            System.out.printf("maxInFlight=%d threads=%d poolRuns=%d mismatches=%d%n",
                    maxInFlight.get(), threads, engine.stats().poolRuns(), mismatches.get());
        }
    }
}
