package dev.panaio.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The kernel's dirty-page limits, for buffered write runs: writers are
 * throttled in balance_dirty_pages once the dirty pages of their domain pass
 * the midpoint of the background and the hard limit, and writeback starts at
 * the background limit. The limits are vm.dirty_bytes or vm.dirty_ratio of the
 * memory that can be dirtied, and inside a memory cgroup of the cgroup's
 * memory as well, so a small cgroup is throttled far sooner than the machine.
 * A device whose backing-device info has {@code strict_limit} set is held to
 * its own share ({@code max_bytes}): its writers are throttled from the
 * midpoint of the share and its background part (three quarters of it with
 * the default ratios, 10 and 20 %), which is how a run meets throttling where
 * the machine's memory is too large for it (BENCHMARKS.md, "Never block").
 */
final class DirtyLimits {
    private DirtyLimits() {
    }

    /**
     * One line naming the limits as configured, the memory cgroup's limit where
     * there is one, and {@code file}'s device's own strict limit where it has one.
     */
    static String describe(Path file) {
        String background = limit("dirty_background_bytes", "dirty_background_ratio");
        String hard = limit("dirty_bytes", "dirty_ratio");
        String cgroup = cgroupLimit();
        String available = memAvailable();
        String device = strictDeviceLimit(file);
        return String.format(Locale.ROOT, "buffered writes: writeback starts at %s of dirty pages, throttling "
                + "between that and %s (vm.dirty_*%s%s); a run must dirty more than that to meet the throttling%s",
                background, hard, available == null ? "" : "; MemAvailable now " + available,
                cgroup == null ? "" : "; this memory cgroup's limit " + cgroup,
                device == null ? "" : "; but " + device);
    }

    /**
     * What {@code file}'s device holds its writers to, if its backing-device
     * info has {@code strict_limit} set with a {@code max_bytes}; null otherwise.
     * A partition's is its disk's: {@code /sys/class/bdi} has the disks only.
     */
    private static String strictDeviceLimit(Path file) {
        long dev;
        try {
            dev = ((Number) Files.getAttribute(file.toAbsolutePath().getParent(), "unix:dev")).longValue();
        } catch (IOException | RuntimeException e) {
            return null; // no unix view, or no parent yet
        }
        // glibc's major() and minor() of a dev_t
        long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & 0xfffff000L);
        long minor = (dev & 0xff) | ((dev >>> 12) & 0xffffff00L);
        String device = major + ":" + minor;
        Path block = Path.of("/sys/dev/block", device);
        if (Files.exists(block.resolve("partition"))) {
            try {
                String disk = read(block.toRealPath().getParent().resolve("dev").toString());
                if (disk != null) {
                    device = disk;
                }
            } catch (IOException e) {
                return null;
            }
        }
        String bdi = "/sys/class/bdi/" + device + "/";
        String maxBytes = read(bdi + "max_bytes");
        if (!"1".equals(read(bdi + "strict_limit")) || maxBytes == null || !maxBytes.matches("\\d+")) {
            return null;
        }
        long max = Long.parseLong(maxBytes);
        // Paused from the midpoint of the device's share and its background part, which the vm.dirty_* pair sets.
        double background = backgroundShare();
        String from = Double.isNaN(background) ? "the midpoint of that and its background part"
                : "about " + BenchTarget.bytes((long) (max * (1 + background) / 2));
        return String.format(Locale.ROOT, "this file's device (%s) has strict_limit set with max_bytes %s: its "
                + "writers are throttled from %s of its dirty pages", device, BenchTarget.bytes(max), from);
    }

    /** The background limit over the hard one, from vm.dirty_background_* and vm.dirty_*; NaN if unknown. */
    private static double backgroundShare() {
        for (String[] pair : new String[][] {{"dirty_background_bytes", "dirty_bytes"},
                {"dirty_background_ratio", "dirty_ratio"}}) {
            String background = read("/proc/sys/vm/" + pair[0]);
            String hard = read("/proc/sys/vm/" + pair[1]);
            if (background != null && hard != null && background.matches("\\d+") && hard.matches("\\d+")
                    && !hard.equals("0") && !background.equals("0")) {
                return Math.min(1.0, Long.parseLong(background) / (double) Long.parseLong(hard));
            }
        }
        return Double.NaN;
    }

    private static String limit(String bytesName, String ratioName) {
        String bytes = read("/proc/sys/vm/" + bytesName);
        if (bytes != null && !bytes.equals("0")) {
            return BenchTarget.bytes(Long.parseLong(bytes));
        }
        String ratio = read("/proc/sys/vm/" + ratioName);
        return ratio == null ? "(unknown)" : ratio + "% of dirtyable memory";
    }

    /** MemAvailable of /proc/meminfo, near what the kernel counts as dirtyable; null if unknown. */
    private static String memAvailable() {
        long kib = meminfoKib("MemAvailable:");
        return kib < 0 ? null : String.format(Locale.ROOT, "%.1f GiB", kib / 1048576.0);
    }

    /** The sum of the named lines of /proc/meminfo ({@code "Dirty:"}, say), in KiB; -1 if it cannot be read. */
    static long meminfoKib(String... fields) {
        long sum = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                for (String field : fields) {
                    if (line.startsWith(field)) {
                        sum += Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1; // not Linux's /proc
        }
        return sum;
    }

    private static String cgroupLimit() {
        for (String file : new String[] {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
            String v = read(file);
            if (v != null && v.matches("\\d+") && Long.parseLong(v) < (1L << 50)) {
                return BenchTarget.bytes(Long.parseLong(v));
            }
        }
        return null;
    }

    /** The first line of a sysctl or cgroup file (readString can stop short on /proc files, which claim size 0). */
    private static String read(String file) {
        try {
            return String.join("\n", Files.readAllLines(Path.of(file))).strip();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
