package dev.panaio.testing.child;

import dev.panaio.AioFileChannel;
import dev.panaio.testing.TestData;
import dev.panaio.testing.ThreadIo;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * Run in a fresh JVM by the virtual-thread tests: {@code threads} virtual
 * threads each make {@code writesPerThread} buffered 4 KiB writes through a
 * channel, every other one a gathering write of two buffers. A write made on
 * a virtual thread runs on its carrier, which the kernel's per-thread
 * accounting charges; one the thread hands off and parks for is charged to
 * the thread that made it. Prints
 * {@code carrierBytes=C blockingPoolBytes=P writes=W mismatches=M}: the bytes
 * the virtual-thread scheduler's carriers ({@code ForkJoinPool-*}) and
 * panaio's pool threads wrote meanwhile, the writes made, and the blocks that
 * read back wrong.
 *
 * <p>Arguments: {@code aio|jdk path threads writesPerThread}.
 */
public final class VirtualWriteCheck {
    public static void main(String[] args) throws Exception {
        boolean aio = args[0].equals("aio");
        Path path = Path.of(args[1]);
        int threads = Integer.parseInt(args[2]);
        int writesPerThread = Integer.parseInt(args[3]);
        AtomicLong writes = new AtomicLong();
        ReentrantLock gathering = new ReentrantLock();
        long carrierBytes;
        long poolBytes;
        long mismatches = 0;
        try (FileChannel channel = aio ? AioFileChannel.open(path, CREATE, READ, WRITE)
                : FileChannel.open(path, CREATE, READ, WRITE)) {
            // Live threads only: a carrier ending during the run (idle for 30 s) would take its count with it.
            long carriersBefore = ThreadIo.bytesWrittenByThreadsNamed("ForkJoinPool");
            long poolBefore = ThreadIo.bytesWrittenByThreadsNamed("panaio-blocking");
            try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    executor.submit(() -> {
                        ByteBuffer block = ByteBuffer.allocateDirect(4096);
                        for (int i = 0; i < writesPerThread; i++) {
                            long position = ((long) thread * writesPerThread + i) * 4096;
                            TestData.fill(MemorySegment.ofBuffer(block.clear()), position, 1);
                            if (i % 2 == 0) {
                                channel.write(block, position);
                            } else {
                                ByteBuffer[] halves = {block.slice(0, 1000), block.slice(1000, 3096)};
                                gathering.lock(); // the channel's position is shared: gathering writes take turns
                                try {
                                    channel.position(position);
                                    channel.write(halves);
                                } finally {
                                    gathering.unlock();
                                }
                            }
                            writes.incrementAndGet();
                        }
                        return null;
                    });
                }
            }
            carrierBytes = ThreadIo.bytesWrittenByThreadsNamed("ForkJoinPool") - carriersBefore;
            poolBytes = ThreadIo.bytesWrittenByThreadsNamed("panaio-blocking") - poolBefore;
            ByteBuffer check = ByteBuffer.allocateDirect(4096);
            for (long b = 0; b < (long) threads * writesPerThread; b++) {
                check.clear();
                channel.read(check, b * 4096);
                if (TestData.firstMismatch(MemorySegment.ofBuffer(check), b * 4096, 1) != -1) {
                    mismatches++;
                }
            }
        }
        System.out.printf("carrierBytes=%d blockingPoolBytes=%d writes=%d mismatches=%d%n", carrierBytes, poolBytes,
                writes.get(), mismatches);
    }
}
