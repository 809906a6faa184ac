package dev.panaio.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the kernel holds for this process, read from /proc: open file
 * descriptors, AIO ring mappings, and the system-wide {@code fs.aio-nr}.
 * Tests take one snapshot before and one after, and compare.
 *
 * <p>{@code fs.aio-nr} is system-wide: another process opening or closing
 * contexts meanwhile moves it. {@link #otherProcessesAioRings()} tells
 * whether that can have happened, so a test can say why a difference is not
 * panaio's.
 *
 * @param descriptors     fd number to what it points at ({@code readlink /proc/self/fd/N})
 * @param aioRings        mappings of AIO rings in this process ({@code /[aio]} in /proc/self/maps): one per
 *                        live kernel context
 * @param aioNr           {@code /proc/sys/fs/aio-nr}
 * @param otherAioRings   AIO ring mappings of every other process, by pid
 * @param settled         whether fs.aio-nr and the other processes' rings held still while they were read, so
 *                        that they describe one moment (see {@link #now})
 */
public record ProcessResources(Map<Integer, String> descriptors, int aioRings, long aioNr,
                               Map<Long, Integer> otherAioRings, boolean settled) {

    /** Tries for a snapshot in which fs.aio-nr held still while the other processes' rings were listed. */
    private static final int SNAPSHOT_ATTEMPTS = 50;

    /**
     * Takes a snapshot now. Listing every process's rings takes milliseconds,
     * and fs.aio-nr is one read: a context another process opened or closed
     * meanwhile could be in the list and not in the number, or the reverse,
     * and a later snapshot would then show the same rings and a number moved
     * by that context. So fs.aio-nr is read before, between and after two
     * listings, and the snapshot is taken only when all three reads and both
     * listings agree (io_setup maps its ring a moment before it charges
     * fs.aio-nr; the second listing outlasts that moment). When other
     * processes never hold still that long, the snapshot says so, and
     * {@link #otherProcessesChangedAioContexts} answers yes for it.
     */
    public static ProcessResources now() throws IOException {
        Map<Integer, String> descriptors = openDescriptors();
        int ownRings = aioRingsOf(Path.of("/proc/self/maps"));
        long aioNr = 0;
        Map<Long, Integer> others = Map.of();
        for (int attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
            aioNr = TestData.aioNr();
            others = otherProcessesAioRings();
            long between = TestData.aioNr();
            Map<Long, Integer> again = otherProcessesAioRings();
            if (between == aioNr && TestData.aioNr() == aioNr && again.equals(others)) {
                return new ProcessResources(descriptors, ownRings, aioNr, others, true);
            }
        }
        return new ProcessResources(descriptors, ownRings, aioNr, others, false);
    }

    /**
     * Descriptors open now that were not open in {@code before}, or point
     * elsewhere, leaving out the JDK's and the build's own jar and module
     * files, which the class loader opens lazily whenever a test first uses
     * a class.
     */
    public List<String> descriptorsOpenedSince(ProcessResources before) {
        List<String> opened = new ArrayList<>();
        descriptors.forEach((fd, target) -> {
            if (!target.equals(before.descriptors.get(fd)) && !isClassLoading(target)) {
                opened.add(fd + " -> " + target);
            }
        });
        return opened;
    }

    /**
     * Whether any other process opened or closed an AIO context between the
     * two snapshots, or may have: yes too when either snapshot could not be
     * taken while they held still.
     */
    public boolean otherProcessesChangedAioContexts(ProcessResources before) {
        return !otherAioRings.equals(before.otherAioRings) || !settled || !before.settled;
    }

    private static boolean isClassLoading(String target) {
        return target.endsWith(".jar") || target.endsWith("/lib/modules") || target.endsWith(".so")
                || target.endsWith("/classes.jsa");
    }

    private static Map<Integer, String> openDescriptors() throws IOException {
        Map<Integer, String> fds = new TreeMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : dir) {
                try {
                    fds.put(Integer.parseInt(fd.getFileName().toString()), Files.readSymbolicLink(fd).toString());
                } catch (NoSuchFileException closedMeanwhile) {
                    // the directory stream's own descriptor, or one closed while listing
                }
            }
        }
        return fds;
    }

    private static int aioRingsOf(Path maps) throws IOException {
        int rings = 0;
        for (String line : Files.readAllLines(maps)) {
            if (line.contains("/[aio]")) {
                rings++;
            }
        }
        return rings;
    }

    private static Map<Long, Integer> otherProcessesAioRings() throws IOException {
        long self = ProcessHandle.current().pid();
        Map<Long, Integer> rings = new TreeMap<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path process : proc) {
                long pid = Long.parseLong(process.getFileName().toString());
                if (pid == self) {
                    continue;
                }
                try {
                    int n = aioRingsOf(process.resolve("maps"));
                    if (n > 0) {
                        rings.put(pid, n);
                    }
                } catch (IOException | UncheckedIOException | SecurityException gone) {
                    // exited meanwhile, or not readable: its contexts cannot be told apart anyway
                }
            }
        }
        return rings;
    }
}
