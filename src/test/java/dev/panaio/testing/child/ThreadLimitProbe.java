package dev.panaio.testing.child;

import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioEngine;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static java.nio.file.StandardOpenOption.READ;

/**
 * A process that can make no more threads, as a container at its pids
 * limit: run as root with {@code args[1]} an empty pids cgroup, which this
 * JVM joins and then caps at the tasks it has.
 *
 * <p>First a chain of {@value #READS} cached reads of {@code args[0]}
 * through panaio's asynchronous channel, each started by the handler of the
 * one before, on a pool thread made before the cap. Each read's handler is
 * deferred behind the running one, which needs the handler watcher's thread:
 * it cannot start. Prints {@code watcherBefore=} (whether that thread ran
 * before the cap: it must not, or nothing is tested), {@code capHolds=}
 * (a thread started after the cap failed), {@code handled=},
 * {@code expected=}, {@code threw=} (read calls that threw),
 * {@code elsewhere=} (handlers that ran on another thread than the first:
 * 0 when each read was answered at once and its handler deferred, as this
 * probe means) and {@code done=} (the chain ended within 30 s).
 *
 * <p>Then opens an engine twice, capped at no thread and at one more than
 * the process has, and prints for each {@code engineN=} (what the open
 * threw, or {@code opened}), {@code startedN=} (threads started during the
 * open: with room for one, the first loop's), {@code ringsLeftN=} and
 * {@code eventfdsLeftN=} (AIO rings mapped and eventfds open after it, less
 * before). Last, with the cap lifted, {@code recovered=} (a new engine
 * opens and answers a read). Run it with the JVM's dynamic compiler and GC
 * threads off, so that the JVM itself starts no thread into the room left.
 */
public final class ThreadLimitProbe {
    private ThreadLimitProbe() {
    }

    private static final int READS = 200;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        Path cgroup = Path.of(args[1]);
        Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
        try (AsynchronousFileChannel channel = AioAsynchronousFileChannel.open(file, READ)) {
            chainOfReads(channel, cgroup);
        }
        openEngine(cgroup, 0, 1);
        openEngine(cgroup, 1, 2);
        Files.writeString(cgroup.resolve("pids.max"), "max");
        try (AioEngine engine = AioEngine.builder().build();
             AsynchronousFileChannel channel = AioAsynchronousFileChannel.open(file, Set.of(READ), null, engine)) {
            System.out.println("recovered=" + (channel.read(ByteBuffer.allocate(512), 0)
                    .get(10, TimeUnit.SECONDS) == 512));
        }
    }

    private static void chainOfReads(AsynchronousFileChannel channel, Path cgroup) throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch capped = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger handled = new AtomicInteger();
        AtomicInteger threw = new AtomicInteger();
        AtomicInteger elsewhere = new AtomicInteger();
        Thread[] first = new Thread[1];
        ByteBuffer dst = ByteBuffer.allocateDirect(512);
        channel.read(dst, 0, 0, new CompletionHandler<Integer, Integer>() {
            @Override
            public void completed(Integer count, Integer index) {
                if (index == 0) { // on a pool thread, made before the cap
                    first[0] = Thread.currentThread();
                    running.countDown();
                    awaitQuietly(capped);
                } else if (Thread.currentThread() != first[0]) {
                    elsewhere.incrementAndGet();
                }
                handled.incrementAndGet();
                if (index == READS) {
                    done.countDown();
                    return;
                }
                dst.clear();
                try {
                    channel.read(dst, 0, index + 1, this);
                } catch (Throwable t) {
                    threw.incrementAndGet();
                    System.out.println("read threw: " + t);
                }
            }

            @Override
            public void failed(Throwable error, Integer index) {
                System.out.println("read " + index + " failed: " + error);
                done.countDown();
            }
        });
        running.await();
        System.out.println("watcherBefore=" + threadRuns("panaio-handler-watch"));
        cap(cgroup, 0);
        System.out.println("capHolds=" + !threadStarts());
        capped.countDown();
        System.out.println("done=" + done.await(30, TimeUnit.SECONDS));
        System.out.println("handled=" + handled.get());
        System.out.println("expected=" + (READS + 1));
        System.out.println("threw=" + threw.get());
        System.out.println("elsewhere=" + elsewhere.get());
    }

    /** Opens a two-thread engine with room for {@code room} more threads; prints what was left open. */
    private static void openEngine(Path cgroup, int room, int n) throws IOException {
        long rings = rings();
        long eventfds = eventfds();
        cap(cgroup, room);
        long started = THREADS.getTotalStartedThreadCount();
        String outcome;
        try (AioEngine engine = AioEngine.builder().threads(2).build()) {
            outcome = "opened";
        } catch (Throwable t) {
            outcome = t.getClass().getName();
        }
        System.out.println("engine" + n + "=" + outcome);
        System.out.println("started" + n + "=" + (THREADS.getTotalStartedThreadCount() - started));
        System.out.println("ringsLeft" + n + "=" + (rings() - rings));
        System.out.println("eventfdsLeft" + n + "=" + (eventfds() - eventfds));
    }

    /** Caps the cgroup at the tasks it has now plus {@code room}. */
    private static void cap(Path cgroup, int room) throws IOException {
        long now = Long.parseLong(Files.readString(cgroup.resolve("pids.current")).strip());
        Files.writeString(cgroup.resolve("pids.max"), Long.toString(now + room));
    }

    /** Whether a thread can be made now. */
    private static boolean threadStarts() {
        try {
            Thread.ofPlatform().start(() -> { }).join();
            return true;
        } catch (OutOfMemoryError e) {
            return false;
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean threadRuns(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name));
    }

    /** AIO rings mapped into this process: each context maps one, named {@code [aio]}. */
    private static long rings() throws IOException {
        try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
            return maps.filter(line -> line.contains("[aio]")).count();
        }
    }

    private static long eventfds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals("anon_inode:[eventfd]");
                } catch (IOException e) { // the listing's own descriptor, closed by now
                    return false;
                }
            }).count();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
