package dev.panaio.testing;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Drops a file's pages from the page cache, so that a buffered read has to go
 * to the disk: the state in which RWF_NOWAIT answers EAGAIN. It uses its own
 * descriptor and its own downcalls, not panaio's, so that the tests of panaio
 * do not depend on the code they test.
 */
public final class PageCache {
    private PageCache() {
    }

    private static final int O_RDONLY = 0;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final int POSIX_FADV_RANDOM = 1;

    private static final MethodHandle OPEN;
    private static final MethodHandle FSYNC;
    private static final MethodHandle POSIX_FADVISE;
    private static final MethodHandle CLOSE;
    private static final MethodHandle PREAD;

    static {
        Linker linker = Linker.nativeLinker();
        OPEN = downcall(linker, "open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        FSYNC = downcall(linker, "fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        POSIX_FADVISE = downcall(linker, "posix_fadvise",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
        CLOSE = downcall(linker, "close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        PREAD = downcall(linker, "pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }

    @SuppressWarnings("restricted")
    private static MethodHandle downcall(Linker linker, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = linker.defaultLookup().find(name).orElseThrow();
        return linker.downcallHandle(symbol, descriptor);
    }

    /**
     * Writes back and evicts every cached page of {@code file}.
     * {@code POSIX_FADV_DONTNEED} skips dirty pages, hence the fsync first.
     */
    public static void evict(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toString()), O_RDONLY);
            if (fd < 0) {
                throw new IOException("open(" + file + ") failed");
            }
            try {
                if ((int) FSYNC.invokeExact(fd) != 0) {
                    throw new IOException("fsync(" + file + ") failed");
                }
                int err = (int) POSIX_FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
                if (err != 0) {
                    throw new IOException("posix_fadvise(" + file + ", DONTNEED) failed with errno " + err);
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * Evicts {@code file}, then caches only its first {@code bytes} again: a
     * read through a descriptor advised {@code POSIX_FADV_RANDOM}, which turns
     * readahead off, so that the pages after them stay uncached.
     */
    public static void cacheOnlyTheFirst(Path file, long bytes) throws IOException {
        evict(file);
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toString()), O_RDONLY);
            if (fd < 0) {
                throw new IOException("open(" + file + ") failed");
            }
            try {
                int err = (int) POSIX_FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_RANDOM);
                if (err != 0) {
                    throw new IOException("posix_fadvise(" + file + ", RANDOM) failed with errno " + err);
                }
                long read = (long) PREAD.invokeExact(fd, arena.allocate(bytes), bytes, 0L);
                if (read != bytes) {
                    throw new IOException("pread(" + file + ") read " + read + " of " + bytes + " bytes");
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
