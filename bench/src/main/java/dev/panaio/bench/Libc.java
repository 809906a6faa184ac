package dev.panaio.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The harness's own downcalls, for what neither the JDK nor panaio's public API
 * offers: page cache advice and queries on the data file ({@code posix_fadvise},
 * {@code cachestat(2)}, {@code mincore} on a mapping), {@code fallocate}, {@code sync}, and
 * a thread's own scheduler figures ({@code pread} of its {@code schedstat},
 * {@code clock_gettime} of its CPU clock) for {@link StallTrace}.
 * The harness must not reach into panaio's internal packages, so it has its own
 * few handles; they are made once, with errno captured.
 *
 * <p>Stateless and thread-safe. Every call returns the C result or throws an
 * {@link IOException} naming the call, the file and the errno, except
 * {@link #pread} and {@link #clockNanos}, which answer -1 and are made
 * without the cost of capturing errno, on a path that is timed.
 */
final class Libc {
    private Libc() {
    }

    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 02000000;
    static final int POSIX_FADV_DONTNEED = 4;
    private static final int PROT_READ = 1;
    private static final int MAP_SHARED = 1;
    /** cachestat(2), Linux 6.5+: 451 in both the x86_64 and the generic (aarch64) syscall tables. */
    private static final long SYS_CACHESTAT = 451;
    private static final int ENOSYS = 38;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle open$MH = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle close$MH = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    // posix_fadvise returns the error number itself and leaves errno alone.
    private static final MethodHandle posix_fadvise$MH = downcall("posix_fadvise",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle fallocate$MH = downcall("fallocate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle mmap$MH = downcall("mmap",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle munmap$MH = downcall("munmap",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle mincore$MH = downcall("mincore",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS));
    // No errno captured: a failed read of a thread's clocks only ends its tracing (StallTrace), with no message to give.
    private static final MethodHandle pread$MH = plainDowncall("pread",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle clock_gettime$MH = plainDowncall("clock_gettime",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    // sync(2) cannot fail.
    private static final MethodHandle sync$MH = plainDowncall("sync", FunctionDescriptor.ofVoid());
    private static final MethodHandle syscall_cachestat$MH = downcall("syscall",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(1));

    /** struct cachestat_range { __u64 off; __u64 len; }: len 0 means to the end of the file. */
    static final long CACHESTAT_RANGE_SIZE = 16;
    /** struct cachestat { __u64 nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; }. */
    static final long CACHESTAT_SIZE = 40;

    /** clock_gettime's clock of the calling thread's CPU time (precise: the kernel brings it up to date). */
    static final int CLOCK_THREAD_CPUTIME_ID = 3;

    @SuppressWarnings("restricted")
    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), descriptor, options);
    }

    @SuppressWarnings("restricted")
    private static MethodHandle plainDowncall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), descriptor, Linker.Option.critical(false));
    }

    /** pread(fd, buffer, buffer's size, offset): the bytes read, or -1. */
    static long pread(int fd, MemorySegment buffer, long offset) {
        try {
            return (long) pread$MH.invokeExact(fd, buffer, buffer.byteSize(), offset);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** clock_gettime(clock, timespec): the clock in ns, or -1. */
    static long clockNanos(int clock, MemorySegment timespec) {
        try {
            int rc = (int) clock_gettime$MH.invokeExact(clock, timespec);
            return rc != 0 ? -1 : timespec.get(ValueLayout.JAVA_LONG, 0) * 1_000_000_000L
                    + timespec.get(ValueLayout.JAVA_LONG, 8);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** sync(): writes every dirty page of the machine, and returns once they are written. */
    static void sync() {
        try {
            sync$MH.invokeExact();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Page cache figures of a file, in pages, as cachestat(2) gives them. */
    record CacheCounts(long cached, long dirty, long writeback) {
    }

    /** open(2); the descriptor. */
    static int open(Path file, int flags) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int fd = (int) open$MH.invokeExact(state, arena.allocateFrom(file.toString()), flags | O_CLOEXEC, 0);
            if (fd < 0) {
                throw failure("open", file, errno(state));
            }
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int unused = (int) close$MH.invokeExact(arena.allocate(CAPTURED), fd);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** posix_fadvise(fd, offset, len, advice). */
    static void posixFadvise(int fd, long offset, long len, int advice, Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            int err = (int) posix_fadvise$MH.invokeExact(arena.allocate(CAPTURED), fd, offset, len, advice);
            if (err != 0) {
                throw failure("posix_fadvise", file, err);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** fallocate(fd, 0, offset, len): allocates blocks as unwritten extents, and extends the file. */
    static void fallocate(int fd, long offset, long len, Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int rc = (int) fallocate$MH.invokeExact(state, fd, 0, offset, len);
            if (rc != 0) {
                throw failure("fallocate", file, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * cachestat(2) over the whole file, into {@code scratch} (at least
     * {@link #CACHESTAT_RANGE_SIZE} + {@link #CACHESTAT_SIZE} bytes); null when
     * the kernel has no such call (before 6.5, or a seccomp filter).
     */
    static CacheCounts cachestat(int fd, MemorySegment scratch, Path file) throws IOException {
        MemorySegment range = scratch.asSlice(0, CACHESTAT_RANGE_SIZE).fill((byte) 0);
        MemorySegment stat = scratch.asSlice(CACHESTAT_RANGE_SIZE, CACHESTAT_SIZE);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            long rc = (long) syscall_cachestat$MH.invokeExact(state, SYS_CACHESTAT, fd, range, stat, 0);
            if (rc != 0) {
                int errno = errno(state);
                if (errno == ENOSYS) {
                    return null;
                }
                throw failure("cachestat", file, errno);
            }
            return new CacheCounts(stat.get(ValueLayout.JAVA_LONG, 0), stat.get(ValueLayout.JAVA_LONG, 8),
                    stat.get(ValueLayout.JAVA_LONG, 16));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0): a mapping only ever handed to mincore. */
    static MemorySegment mapForMincore(int fd, long length, Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment address = (MemorySegment) mmap$MH.invokeExact(state, MemorySegment.NULL, length,
                    PROT_READ, MAP_SHARED, fd, 0L);
            if (address.address() == -1L) {
                throw failure("mmap", file, errno(state));
            }
            return address;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static void munmap(MemorySegment address, long length) {
        try (Arena arena = Arena.ofConfined()) {
            int unused = (int) munmap$MH.invokeExact(arena.allocate(CAPTURED), address, length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** mincore over {@code length} bytes of a mapping; one byte per page in {@code vector}, bit 0 = resident. */
    static void mincore(MemorySegment address, long length, MemorySegment vector, Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int rc = (int) mincore$MH.invokeExact(state, address, length, vector);
            if (rc != 0) {
                throw failure("mincore", file, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static IOException failure(String call, Path file, int errno) {
        return new IOException(String.format(Locale.ROOT, "%s on %s failed: errno %d", call, file, errno));
    }
}
