package dev.panaio.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Drops a file's pages from the page cache, so that a buffered read has to go
 * to the disk: the state in which RWF_NOWAIT answers EAGAIN. It uses its own
 * descriptor and its own downcalls, not panaio's, so that the tests of panaio
 * do not depend on the code they test.
 *
 * <p>{@code POSIX_FADV_DONTNEED} is advice: a page that is mapped, locked or
 * under writeback stays. So {@link #evict} checks with {@code mincore(2)}
 * that no page is left, and skips the calling test, saying so, when the
 * kernel keeps some: a test of the uncached path must not quietly test the
 * cached one.
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
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MINCORE;
    private static final MethodHandle GETPAGESIZE;
    private static final int PROT_READ = 1;
    private static final int MAP_SHARED = 1;
    private static final int ATTEMPTS = 3;
    private static final int MISS_ATTEMPTS = 100;
    private static final MethodHandle PREAD;

    static {
        Linker linker = Linker.nativeLinker();
        OPEN = downcall(linker, "open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        FSYNC = downcall(linker, "fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        POSIX_FADVISE = downcall(linker, "posix_fadvise",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
        CLOSE = downcall(linker, "close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MMAP = downcall(linker, "mmap",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        MUNMAP = downcall(linker, "munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        MINCORE = downcall(linker, "mincore", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        GETPAGESIZE = downcall(linker, "getpagesize", FunctionDescriptor.of(JAVA_INT));
        PREAD = downcall(linker, "pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }

    @SuppressWarnings("restricted")
    private static MethodHandle downcall(Linker linker, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = linker.defaultLookup().find(name).orElseThrow();
        return linker.downcallHandle(symbol, descriptor);
    }

    /**
     * Writes back and evicts every cached page of {@code file}, and checks
     * that none is left; if the kernel keeps some after a few tries, the
     * calling test is skipped with the count.
     * {@code POSIX_FADV_DONTNEED} skips dirty pages, hence the fsync first.
     */
    public static void evict(Path file) throws IOException {
        long cached = 0;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            adviseDontNeed(file);
            cached = residentPages(file);
            if (cached == 0) {
                return;
            }
        }
        Assumptions.abort(cached + " pages of " + file + " stayed in the page cache after " + ATTEMPTS
                + " fsync + POSIX_FADV_DONTNEED: the test needs them read from the disk");
    }

    /** Pages of {@code file} in the page cache now, by {@code mincore(2)} over a read-only mapping. */
    public static long residentPages(Path file) throws IOException {
        long resident = 0;
        for (boolean page : residency(file)) {
            resident += page ? 1 : 0;
        }
        return resident;
    }

    /** Whether each page of {@code file}, in order, is in the page cache now, by {@code mincore(2)}. */
    public static boolean[] residency(Path file) throws IOException {
        long size = Files.size(file);
        if (size == 0) {
            return new boolean[0];
        }
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toString()), O_RDONLY);
            if (fd < 0) {
                throw new IOException("open(" + file + ") failed");
            }
            try {
                MemorySegment map = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ, MAP_SHARED,
                        fd, 0L);
                if (map.address() == -1L) {
                    throw new IOException("mmap(" + file + ") failed");
                }
                try {
                    long pageSize = (int) GETPAGESIZE.invokeExact();
                    int pages = Math.toIntExact((size + pageSize - 1) / pageSize);
                    MemorySegment vector = arena.allocate(pages);
                    if ((int) MINCORE.invokeExact(map, size, vector) != 0) {
                        throw new IOException("mincore(" + file + ") failed");
                    }
                    boolean[] resident = new boolean[pages];
                    for (int i = 0; i < pages; i++) {
                        resident[i] = (vector.get(JAVA_BYTE, i) & 1) != 0;
                    }
                    return resident;
                } finally {
                    int ignored = (int) MUNMAP.invokeExact(map, size);
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

    private static void adviseDontNeed(Path file) throws IOException {
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

    /** One read of {@link #untilAMiss}, with its checks. */
    @FunctionalInterface
    public interface Attempt {
        /**
         * Makes the read once and checks its result.
         *
         * @return whether the read met the uncached pages (the case under
         *         test), or found the whole range cached after all
         */
        boolean missed() throws Exception;
    }

    /**
     * Caches only the first {@code bytes} of {@code file} (none: 0) and makes
     * {@code attempt}'s read, until a read meets the pages left uncached.
     *
     * <p>A {@code preadv2(RWF_NOWAIT)} that finds a page missing starts the
     * kernel's readahead of it before it gives up, inside the call. On a disk
     * that answers fast enough, that readahead can complete before the call
     * looks at the page again, and the call then reads the whole range: a
     * correct result, which the attempt checks, but not the miss under test.
     * So it tries again, up to 100 times; a read that
     * never misses (one made without RWF_NOWAIT, say) fails the test. Each try
     * first reads the whole file, which waits for the pages a previous try's
     * readahead still has under I/O: they would land after the eviction and
     * cache the range again.
     */
    public static void untilAMiss(Path file, long bytes, Attempt attempt) throws Exception {
        for (int i = 0; i < MISS_ATTEMPTS; i++) {
            Files.readAllBytes(file);
            cacheOnlyTheFirst(file, bytes);
            if (attempt.missed()) {
                return;
            }
        }
        String uncached = bytes == 0 ? "its evicted pages" : "the pages past its first " + bytes + " bytes";
        Assertions.fail("no read of " + file + " met " + uncached + " uncached, in " + MISS_ATTEMPTS
                + " tries: each found the whole range cached");
    }
}
