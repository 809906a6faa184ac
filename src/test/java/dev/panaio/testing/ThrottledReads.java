package dev.panaio.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.panaio.testing.SystemCommands.assumeRoot;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Holds a block device's reads inside the kernel for as long as a test wants:
 * a read limit of 512 bytes a second on the device, set with the block
 * layer's throttle in the root cgroup of cgroup v1's blkio hierarchy, makes
 * the throttle keep each read's bio queued (a 64 KiB read would wait two
 * minutes); {@link #release()} removes the limit, and the kernel then
 * dispatches what it held at once (measured here: within a few ms). The
 * throttle counts each read bio as it arrives, held or not
 * ({@link #queuedReads()}); the device's own statistics say when reads
 * complete.
 *
 * <p>Only the device given is limited; use it on a loop device of the test's
 * own. Needs root and cgroup v1's blkio controller with throttling
 * ({@code CONFIG_BLK_DEV_THROTTLING}); {@link #hold} skips the test, saying
 * what is missing. (cgroup v2's {@code io.max} does not exist in the root
 * cgroup, and a child cgroup would have to hold the engine's own thread.)
 * {@link #close()} removes the limit, always.
 */
public final class ThrottledReads implements AutoCloseable {
    private static final Path BLKIO = Path.of("/sys/fs/cgroup/blkio");
    private static final Path READ_BPS = BLKIO.resolve("blkio.throttle.read_bps_device");
    private static final Path SERVICED = BLKIO.resolve("blkio.throttle.io_serviced");
    /** The kernel's lowest useful rate: each read waits its size / 512 seconds. */
    private static final int BYTES_PER_SECOND = 512;

    private final String majorMinor;
    private boolean limited;

    private ThrottledReads(String majorMinor) {
        this.majorMinor = majorMinor;
    }

    /** Limits reads of {@code device} (such as {@code /dev/loop3}) until {@link #release()} or {@link #close()}. */
    public static ThrottledReads hold(String device) throws IOException {
        assumeRoot();
        assumeTrue(Files.isWritable(READ_BPS) && Files.isReadable(SERVICED),
                () -> "no cgroup v1 blkio throttle here (" + READ_BPS + " is missing; /proc/self/cgroup says "
                        + readOrWhy(Path.of("/proc/self/cgroup")).strip().replace('\n', ' ') + ")");
        Path sysDev = Path.of("/sys/class/block", Path.of(device).getFileName().toString(), "dev");
        ThrottledReads throttle = new ThrottledReads(Files.readString(sysDev).strip());
        Files.writeString(READ_BPS, throttle.majorMinor + " " + BYTES_PER_SECOND);
        throttle.limited = true;
        assumeTrue(Files.readString(READ_BPS).contains(throttle.majorMinor + " " + BYTES_PER_SECOND),
                () -> "the kernel did not keep the read limit for " + throttle.majorMinor + ": "
                        + readOrWhy(READ_BPS));
        return throttle;
    }

    /** Read bios of the device that have reached the throttle since the device appeared, held ones included. */
    public long queuedReads() throws IOException {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(majorMinor) + " Read (\\d+)$")
                .matcher(Files.readString(SERVICED));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** Removes the limit: the kernel dispatches the held reads at once. Idempotent. */
    public void release() throws IOException {
        if (limited) {
            Files.writeString(READ_BPS, majorMinor + " 0");
            limited = false;
        }
    }

    @Override
    public void close() throws IOException {
        release();
    }

    private static String readOrWhy(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            return "unreadable (" + e + ")";
        }
    }
}
