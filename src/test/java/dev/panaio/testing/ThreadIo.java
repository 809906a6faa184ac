package dev.panaio.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The kernel's per-thread I/O accounting ({@code /proc/<pid>/task/<tid>/io}),
 * which says which thread made a write: {@code wchar} counts the bytes a
 * thread's write system calls (pwritev2 among them) passed to the kernel,
 * {@code syscw} its write system calls. A virtual thread's are its carrier's.
 */
public final class ThreadIo {
    private ThreadIo() {
    }

    /** Whether this kernel keeps the accounting ({@code CONFIG_TASK_IO_ACCOUNTING}). */
    public static boolean available() {
        return Files.isReadable(Path.of("/proc/thread-self/io"));
    }

    /** Bytes the calling (platform) thread, or a virtual thread's current carrier, has written. */
    public static long bytesWrittenHere() {
        return field(Path.of("/proc/thread-self/io"), "wchar");
    }

    /** Write system calls the calling (platform) thread has made. */
    public static long writeCallsHere() {
        return field(Path.of("/proc/thread-self/io"), "syscw");
    }

    /**
     * Bytes written by this process's threads whose kernel name (comm: the
     * first 15 characters of the Java name) starts with {@code prefix}, live
     * ones only.
     */
    public static long bytesWrittenByThreadsNamed(String prefix) {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    if (Files.readString(task.resolve("comm")).startsWith(prefix)) {
                        total += field(task.resolve("io"), "wchar");
                    }
                } catch (NoSuchFileException | UncheckedIOException gone) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return total;
    }

    private static long field(Path io, String name) {
        try {
            for (String line : Files.readAllLines(io)) {
                if (line.startsWith(name + ": ")) {
                    return Long.parseLong(line.substring(name.length() + 2));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no " + name + " in " + io);
    }
}
