package dev.panaio;

import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.TestData;
import dev.panaio.testing.child.ThreadLimitProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A process that can make no more threads (a container at its pids limit),
 * made real with a pids cgroup that a child JVM joins and caps
 * ({@link ThreadLimitProbe}); skipped where this machine has no pids cgroup
 * this user may make.
 *
 * <ul>
 *   <li>A cached read started by a handler, whose own handler is deferred
 *       behind it while the handler watcher's thread cannot start, neither
 *       throws nor loses its handler: the handler runs once, after the
 *       running one returns.</li>
 *   <li>An engine whose loop thread cannot start throws, and leaves no AIO
 *       context and no eventfd open: neither of a first loop whose thread
 *       could not start, nor of the loops opened before it.</li>
 * </ul>
 */
class FaultThreadLimitTest extends FaultTesting {
    private static final Path V1 = Path.of("/sys/fs/cgroup/pids");
    private static final Path V2 = Path.of("/sys/fs/cgroup");

    private Path cgroup;

    @BeforeEach
    void makeCgroup() {
        cgroup = makePidsCgroup("panaio-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    @AfterEach
    void removeCgroup() throws Exception {
        if (cgroup != null) {
            for (int i = 0; i < 50 && Files.exists(cgroup); i++) {
                try {
                    Files.delete(cgroup); // empty once the child has exited
                } catch (IOException e) {
                    Thread.sleep(100);
                }
            }
        }
    }

    @Test
    void shouldLoseNoHandlerAndLeakNoContextWhenNoThreadCanBeMade() throws Exception {
        Path path = TestData.writeFile(dir.resolve("cached"), 4096, SEED); // just written: cached
        // No thread the JVM would start of itself on demand (compiler, GC workers) takes the room the test leaves.
        ChildJvm.Outcome run = ChildJvm.onClassPath(ThreadLimitProbe.class,
                List.of("--enable-native-access=ALL-UNNAMED", "-XX:-UseDynamicNumberOfCompilerThreads",
                        "-XX:-UseDynamicNumberOfGCThreads"), path.toString(), cgroup.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.value("watcherBefore")).as("the watcher's thread had not run before the cap: "
                + "the probe tests its start").isEqualTo("false");
        assertThat(run.value("capHolds")).as("a thread started after the cap fails: " + run).isEqualTo("true");

        assertThat(run.value("done")).as(run.toString()).isEqualTo("true");
        assertThat(run.value("threw")).as("read calls that threw, whose handlers ran all the same: " + run)
                .isEqualTo("0");
        assertThat(run.value("handled")).as(run.toString()).isEqualTo(run.value("expected"));
        assertThat(run.value("elsewhere")).as("handlers run elsewhere than the chain's thread: the reads were not "
                + "answered at once and deferred, which is what this tests: " + run).isEqualTo("0");

        for (int n = 1; n <= 2; n++) {
            assertThat(run.value("engine" + n)).as(run.toString()).isEqualTo(OutOfMemoryError.class.getName());
            // With room for no thread, none starts; with room for one, the first loop's does and the second fails.
            assertThat(run.value("started" + n)).as("threads started by engine open " + n + ": " + run)
                    .isEqualTo(Integer.toString(n - 1));
            assertThat(run.value("ringsLeft" + n)).as("AIO contexts left by engine open " + n + ": " + run)
                    .isEqualTo("0");
            assertThat(run.value("eventfdsLeft" + n)).as("eventfds left by engine open " + n + ": " + run)
                    .isEqualTo("0");
        }
        assertThat(run.value("recovered")).as(run.toString()).isEqualTo("true");
    }

    /** A new pids cgroup (v1, or v2 with the controller on), or the test is skipped, saying why. */
    private static Path makePidsCgroup(String name) {
        Path parent;
        if (Files.isDirectory(V1)) {
            parent = V1;
        } else if (controllers(V2).contains("pids")) {
            parent = V2;
            // Turning the controller on for the root's children would change the machine for good: not a test's to do.
            assumeTrue(read(V2.resolve("cgroup.subtree_control")).contains("pids"), "the pids controller is not "
                    + "enabled for child cgroups (echo +pids > " + V2.resolve("cgroup.subtree_control") + " does)");
        } else {
            assumeTrue(false, "this machine has no pids cgroup controller (neither " + V1 + " nor pids in "
                    + V2.resolve("cgroup.controllers") + ")");
            return null;
        }
        Path made = parent.resolve(name);
        try {
            Files.createDirectory(made);
        } catch (IOException e) {
            assumeTrue(false, "cannot make a pids cgroup (the test needs root): " + e);
        }
        if (!Files.exists(made.resolve("pids.max"))) {
            try {
                Files.delete(made);
            } catch (IOException e) {
                // left empty: harmless
            }
            assumeTrue(false, "no pids.max in " + made);
        }
        return made;
    }

    private static String controllers(Path root) {
        return read(root.resolve("cgroup.controllers"));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
