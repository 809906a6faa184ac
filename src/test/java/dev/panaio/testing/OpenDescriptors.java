package dev.panaio.testing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * The descriptors this process holds on one file, counted from
 * {@code /proc/self/fd}: a channel's cost in descriptors, and whether a closed
 * or dropped channel gave its descriptor back.
 */
public final class OpenDescriptors {
    private OpenDescriptors() {
    }

    /** How many descriptors point at {@code file}, including after it was unlinked ("(deleted)"). */
    public static int on(Path file) throws IOException {
        return numbersOn(file).size();
    }

    /** The numbers of the descriptors that point at {@code file}, as {@link #on} counts them. */
    public static List<Integer> numbersOn(Path file) throws IOException {
        String target = file.toAbsolutePath().toString();
        List<Integer> numbers = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : dir) {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    if (link.equals(target) || link.equals(target + " (deleted)")) {
                        numbers.add(Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (NoSuchFileException closedMeanwhile) {
                    // the directory stream's own descriptor, or one closed while listing
                }
            }
        }
        return numbers;
    }

    /**
     * Polls {@link #on} until {@code done} accepts the count or {@code maxMillis}
     * pass, running {@code System.gc()} between polls when {@code collect} is set
     * (a Cleaner runs only after the channel is found unreachable). Returns the
     * last count.
     */
    public static int awaitOn(Path file, IntPredicate done, boolean collect, long maxMillis)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + maxMillis * 1_000_000L;
        int count = on(file);
        while (!done.test(count) && System.nanoTime() < deadline) {
            if (collect) {
                System.gc();
            }
            Thread.sleep(20);
            count = on(file);
        }
        return count;
    }
}
