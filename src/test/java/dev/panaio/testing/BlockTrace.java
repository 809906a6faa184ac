package dev.panaio.testing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.panaio.testing.SystemCommands.assumeRoot;
import static dev.panaio.testing.SystemCommands.exec;
import static dev.panaio.testing.SystemCommands.tool;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Records the requests the block layer issues to one device, with the I/O
 * priority each carries, through the kernel's {@code block:block_rq_issue}
 * tracepoint: what reached the device, not what panaio wrote into an iocb.
 * It traces in a tracefs instance of its own (so that it neither sees nor
 * disturbs anybody else's tracing), on a tracefs mount of its own under the
 * test's directory, also when tracefs is mounted elsewhere: a mount found in
 * the mount table may be another test run's, which unmounts it when that run
 * is done, taking the path to this instance with it (seen with two runs of
 * the suite at once). Needs root, tracefs, and a kernel whose
 * tracepoint has the {@code ioprio} field (Linux 6.10+); skips otherwise.
 *
 * <p>An instance outlives the JVM that made it: its tracepoint fires for
 * every block request of the machine until the instance is removed, and two
 * left by killed test runs once cost every benchmark on the machine about 5 %
 * of a direct-read loop's CPU samples for fifteen hours (docs/BENCHMARKS.md,
 * eleventh run). So a JVM that exits without {@link #close} removes its
 * instance in a shutdown hook, and each start removes those of test JVMs
 * that are no longer alive (killed, where no hook runs).
 */
public final class BlockTrace implements AutoCloseable {
    private static final String PREFIX = "panaio-";

    private final Path mountedHere;
    private final Path instance;
    private final Thread removeAtExit;

    private BlockTrace(Path mountedHere, Path instance) {
        this.mountedHere = mountedHere;
        this.instance = instance;
        this.removeAtExit = new Thread(() -> removeQuietly(instance), "block-trace-cleanup");
        Runtime.getRuntime().addShutdownHook(removeAtExit);
    }

    /** Starts tracing requests issued to the block device that holds {@code file}'s filesystem. */
    public static BlockTrace ofDeviceHolding(Path dir, Path file) throws IOException {
        long dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
        int major = (int) ((dev >>> 8) & 0xfff | (dev >>> 32) & ~0xfffL);
        int minor = (int) (dev & 0xff | (dev >>> 12) & ~0xffL);
        return start(dir, major, minor);
    }

    /** Starts tracing requests issued to the block device {@code major:minor}. */
    public static BlockTrace start(Path dir, int major, int minor) throws IOException {
        assumeRoot();
        Path tracefs = Files.createDirectories(dir.resolve("tracefs"));
        SystemCommands.Result mounted = exec(tool("mount", "mount"), "-t", "tracefs", "nodev", tracefs.toString());
        assumeTrue(mounted.exitCode() == 0, "cannot mount tracefs: " + mounted);
        Path mountedHere = tracefs;
        Path format = tracefs.resolve("events/block/block_rq_issue/format");
        if (!Files.exists(format) || !Files.readString(format).contains("ioprio")) {
            unmount(mountedHere);
            assumeTrue(false, "this kernel's block_rq_issue tracepoint has no ioprio field (Linux 6.10+ has)");
        }
        String namespace = pidNamespace();
        try {
            removeInstancesOfDeadJvms(tracefs.resolve("instances"), namespace);
        } catch (IOException e) {
            // other runs' leftovers: not this test's to fail on
        }
        Path instance = tracefs.resolve("instances/" + PREFIX + ProcessHandle.current().pid() + "-" + namespace + "-"
                + System.nanoTime());
        Files.createDirectory(instance); // tracefs makes a new trace instance
        BlockTrace trace = new BlockTrace(mountedHere, instance); // from here on, removed at exit
        try {
            Path event = instance.resolve("events/block/block_rq_issue");
            // dev_t in the kernel is major << 20 | minor.
            Files.writeString(event.resolve("filter"), "dev == " + ((long) major << 20 | minor));
            Files.writeString(event.resolve("enable"), "1");
        } catch (IOException | RuntimeException e) {
            try {
                trace.close();
            } catch (IOException | RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        return trace;
    }

    /** Requests issued so far, one line each, as the tracepoint prints them ("... be,0,3 [comm]"). */
    public List<String> issued() throws IOException {
        return Files.readAllLines(instance.resolve("trace")).stream().filter(line -> !line.startsWith("#")).toList();
    }

    @Override
    public void close() throws IOException {
        try {
            remove(instance);
            try {
                Runtime.getRuntime().removeShutdownHook(removeAtExit);
            } catch (IllegalStateException e) {
                // closed while the JVM exits: the hook finds nothing left to remove
            }
        } finally {
            unmount(mountedHere);
        }
    }

    /**
     * Removes the instances named for a process id, in this JVM's pid namespace, that no live process has: a test
     * JVM killed while it traced. (Trace instances are the whole kernel's: one made in a container names a pid of
     * the container's namespace, which this JVM cannot look up; the older names, {@code panaio-<pid>-<time>},
     * carry no namespace and count as this one's.)
     */
    private static void removeInstancesOfDeadJvms(Path instances, String namespace) throws IOException {
        try (DirectoryStream<Path> all = Files.newDirectoryStream(instances, PREFIX + "*")) {
            for (Path stale : all) {
                String[] parts = stale.getFileName().toString().substring(PREFIX.length()).split("-");
                long pid;
                try {
                    pid = Long.parseLong(parts[0]);
                } catch (RuntimeException e) { // not named by this class
                    continue;
                }
                if (parts.length == 3 && !parts[1].equals(namespace)) {
                    continue; // another pid namespace's
                }
                if (ProcessHandle.of(pid).isEmpty()) { // a live process with that id, reused or not, keeps it
                    try {
                        remove(stale);
                    } catch (IOException e) {
                        // another run removed it first, or the kernel still holds it: not this test's to fail on
                    }
                }
            }
        }
    }

    /** This process's pid namespace, by the inode {@code /proc/self/ns/pid} names ({@code pid:[4026531836]}). */
    private static String pidNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString().replaceAll("[^0-9]", "");
        } catch (IOException | UnsupportedOperationException e) {
            return "0"; // no namespaces to tell apart
        }
    }

    /** Stops an instance's tracing and removes it (tracefs frees its buffer). */
    private static void remove(Path instance) throws IOException {
        Files.writeString(instance.resolve("events/block/block_rq_issue/enable"), "0");
        Files.delete(instance);
    }

    private static void removeQuietly(Path instance) {
        try {
            if (Files.exists(instance)) {
                remove(instance);
            }
        } catch (IOException e) {
            // the JVM is exiting: nothing to tell
        }
    }

    private static void unmount(Path mountedHere) throws IOException {
        if (mountedHere != null) {
            exec(tool("umount", "mount"), mountedHere.toString()).check("umount " + mountedHere);
        }
    }
}
