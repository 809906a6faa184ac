package dev.panaio.internal.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.WrongMethodTypeException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Typed access to the system calls panaio makes.
 *
 * <p>Every method follows the kernel's own convention: it returns the call's
 * non-negative result, or {@code -errno} on failure. No method allocates on
 * the Java heap on success, so the submit and reap paths stay garbage-free;
 * turning a negative result into an exception is the caller's job, done in
 * one place ({@link ErrnoExceptions}).
 *
 * <p>Every call takes an {@code errnoCapture} segment from
 * {@link #errnoCapture(Arena)}: the hot paths keep one, used by one thread at
 * a time; the cold ones allocate their own.
 *
 * <p>Thread-safe: the class holds no state.
 */
public final class Syscalls {
    private Syscalls() {
    }

    private static final Architecture ARCH = Architecture.current();

    /** The architecture whose syscall numbers are in use. */
    public static Architecture architecture() {
        return ARCH;
    }

    private static long result(long ret, MemorySegment errnoCapture) {
        return ret == -1 ? -(int) Libc.ERRNO.get(errnoCapture, 0L) : ret;
    }

    /**
     * What a downcall threw, for its caller to throw. An
     * {@code invokeExact} whose types do not match the handle's is a bug in
     * panaio, and says so; anything else (an {@link IllegalStateException}
     * for a segment of a closed arena, an {@link OutOfMemoryError}) is
     * rethrown as it is.
     */
    private static Error linkageBroken(Throwable t) {
        if (t instanceof WrongMethodTypeException) {
            return new AssertionError("downcall signature mismatch: a bug in panaio", t);
        }
        if (t instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (t instanceof Error error) {
            return error;
        }
        return new AssertionError("a downcall threw a checked exception, which it cannot: a bug in panaio", t);
    }

    /**
     * Makes a call again for as long as a signal interrupts it ({@code EINTR}:
     * it did nothing, so repeating it is safe), and returns its first other
     * result. Callers whose loop must do more between tries (recompute a
     * deadline, check for close) test for {@code -EINTR} themselves.
     */
    public static long restartOnEintr(LongSupplier call) {
        long ret;
        do {
            ret = call.getAsLong();
        } while (ret == -ErrnoExceptions.EINTR);
        return ret;
    }

    /** {@code io_setup(nr, ctxp)}: on success the context id is stored at {@code ctxp}, which must hold 0. */
    public static long io_setup(MemorySegment errnoCapture, int nr, MemorySegment ctxp) {
        try {
            return result((long) Libc.syscall2$MH.invokeExact(errnoCapture, ARCH.ioSetup, (long) nr, ctxp),
                    errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code io_destroy(ctx)}: blocks until the context's in-flight I/O has finished. */
    public static long io_destroy(MemorySegment errnoCapture, long ctx) {
        try {
            return result((long) Libc.syscall1$MH.invokeExact(errnoCapture, ARCH.ioDestroy, ctx), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code io_submit(ctx, nr, iocbpp)}: the number of iocbs accepted, from the first. */
    public static long io_submit(MemorySegment errnoCapture, long ctx, long nr, MemorySegment iocbpp) {
        try {
            return result((long) Libc.syscall3$MH.invokeExact(errnoCapture, ARCH.ioSubmit, ctx, nr, iocbpp),
                    errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code io_cancel(ctx, iocb, result)}: the iocb is identified by its user address. */
    public static long io_cancel(MemorySegment errnoCapture, long ctx, MemorySegment iocb, MemorySegment result) {
        try {
            return result((long) Libc.syscall3pp$MH.invokeExact(errnoCapture, ARCH.ioCancel, ctx, iocb, result),
                    errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /**
     * {@code io_getevents(ctx, min_nr, nr, events, timeout)}. A NULL timeout
     * waits without limit; the kernel also treats a negative one so.
     */
    public static long io_getevents(MemorySegment errnoCapture, long ctx, long minNr, long nr,
                                    MemorySegment events, MemorySegment timeout) {
        try {
            return result((long) Libc.syscall5$MH.invokeExact(errnoCapture, ARCH.ioGetevents, ctx, minNr, nr,
                    events, timeout), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code eventfd2(initval, flags)}: a new file descriptor. */
    public static long eventfd2(MemorySegment errnoCapture, int initval, int flags) {
        try {
            return result((long) Libc.syscall2ll$MH.invokeExact(errnoCapture, ARCH.eventfd2,
                    (long) initval, (long) flags), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code statx(dirfd, path, flags, mask, statxbuf)}. */
    public static long statx(MemorySegment errnoCapture, int dirfd, MemorySegment path, int flags, int mask,
                             MemorySegment statxbuf) {
        try {
            return result((long) Libc.syscall5statx$MH.invokeExact(errnoCapture, ARCH.statx, (long) dirfd, path,
                    (long) flags, (long) mask, statxbuf), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code open(path, flags, mode)}: a new file descriptor. */
    public static long open(MemorySegment errnoCapture, MemorySegment path, int flags, int mode) {
        try {
            return result((int) Libc.open$MH.invokeExact(errnoCapture, path, flags, mode), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code close(fd)}. */
    public static long close(MemorySegment errnoCapture, int fd) {
        try {
            return result((int) Libc.close$MH.invokeExact(errnoCapture, fd), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code read(fd, buf, count)}. */
    public static long read(MemorySegment errnoCapture, int fd, MemorySegment buf, long count) {
        try {
            return result((long) Libc.read$MH.invokeExact(errnoCapture, fd, buf, count), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code write(fd, buf, count)}. */
    public static long write(MemorySegment errnoCapture, int fd, MemorySegment buf, long count) {
        try {
            return result((long) Libc.write$MH.invokeExact(errnoCapture, fd, buf, count), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /**
     * {@code pread(fd, buf, count, offset)}, {@code buf} given by its address:
     * the caller keeps the memory alive for the call (only memory the garbage
     * collector frees, kept reachable). Cheaper in the kernel than a
     * one-element {@code preadv2}, which first copies in its iovec.
     */
    public static long pread(MemorySegment errnoCapture, int fd, long bufAddress, long count, long offset) {
        try {
            return result((long) Libc.pread$MH.invokeExact(errnoCapture, fd, bufAddress, count, offset), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code pwrite(fd, buf, count, offset)}, {@code buf} given by its address, as {@link #pread}. */
    public static long pwrite(MemorySegment errnoCapture, int fd, long bufAddress, long count, long offset) {
        try {
            return result((long) Libc.pwrite$MH.invokeExact(errnoCapture, fd, bufAddress, count, offset),
                    errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code preadv2(fd, iov, iovcnt, offset, flags)}: a positional read with per-call RWF_* flags. */
    public static long preadv2(MemorySegment errnoCapture, int fd, MemorySegment iov, int iovcnt, long offset,
                               int flags) {
        try {
            return result((long) Libc.preadv2$MH.invokeExact(errnoCapture, fd, iov, iovcnt, offset, flags),
                    errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /**
     * {@code preadv2(fd, iov, iovcnt, offset, flags)} through {@code syscall}, with {@code held} (the memory the
     * iovec points into) passed as an extra argument that the kernel ignores, so that FFM keeps its session
     * acquired for the call: closing its arena meanwhile throws instead of freeing memory the kernel writes.
     * On 64-bit kernels {@code pos_lo} carries the whole offset and {@code pos_hi} is 0, as glibc passes it.
     */
    public static long preadv2Holding(MemorySegment errnoCapture, int fd, MemorySegment iov, int iovcnt,
                                      long offset, int flags, MemorySegment held) {
        try {
            return result((long) Libc.syscall7rw$MH.invokeExact(errnoCapture, ARCH.preadv2, (long) fd, iov,
                    (long) iovcnt, offset, 0L, (long) flags, held), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** As {@link #preadv2Holding}, for {@code pwritev2}: the kernel reads {@code held} while it is held. */
    public static long pwritev2Holding(MemorySegment errnoCapture, int fd, MemorySegment iov, int iovcnt,
                                       long offset, int flags, MemorySegment held) {
        try {
            return result((long) Libc.syscall7rw$MH.invokeExact(errnoCapture, ARCH.pwritev2, (long) fd, iov,
                    (long) iovcnt, offset, 0L, (long) flags, held), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /**
     * {@code cachestat(fd, range, cstat, 0)} (Linux 6.5+): what of a file's range the page cache holds, asked
     * without reading it. {@code range} is a {@code struct cachestat_range} (offset, length: two u64),
     * {@code cstat} a {@code struct cachestat} (five u64, the first the cached pages). -ENOSYS on older kernels.
     */
    public static long cachestat(MemorySegment errnoCapture, int fd, MemorySegment range, MemorySegment cstat) {
        try {
            return result((long) Libc.syscall4cachestat$MH.invokeExact(errnoCapture, ARCH.cachestat, (long) fd,
                    range, cstat, 0L), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code getpagesize()}: the page size in bytes, the page cache's unit. */
    public static int getpagesize() {
        try {
            return (int) Libc.getpagesize$MH.invokeExact();
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code pwritev2(fd, iov, iovcnt, offset, flags)}: a positional write with per-call RWF_* flags. */
    public static long pwritev2(MemorySegment errnoCapture, int fd, MemorySegment iov, int iovcnt, long offset,
                                int flags) {
        try {
            return result((long) Libc.pwritev2$MH.invokeExact(errnoCapture, fd, iov, iovcnt, offset, flags),
                    errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code ftruncate(fd, length)}. */
    public static long ftruncate(MemorySegment errnoCapture, int fd, long length) {
        try {
            return result((int) Libc.ftruncate$MH.invokeExact(errnoCapture, fd, length), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code fallocate(fd, mode, offset, len)}: FALLOC_FL_* modes, 0 to allocate and extend. */
    public static long fallocate(MemorySegment errnoCapture, int fd, int mode, long offset, long len) {
        try {
            return result((int) Libc.fallocate$MH.invokeExact(errnoCapture, fd, mode, offset, len), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /**
     * {@code posix_fadvise(fd, offset, len, advice)}: POSIX has it return the
     * error number rather than set errno, so no capture is needed.
     */
    public static long posix_fadvise(int fd, long offset, long len, int advice) {
        try {
            return -(int) Libc.posix_fadvise$MH.invokeExact(fd, offset, len, advice);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code fsync(fd)}. */
    public static long fsync(MemorySegment errnoCapture, int fd) {
        try {
            return result((int) Libc.fsync$MH.invokeExact(errnoCapture, fd), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code fdatasync(fd)}. */
    public static long fdatasync(MemorySegment errnoCapture, int fd) {
        try {
            return result((int) Libc.fdatasync$MH.invokeExact(errnoCapture, fd), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code unlink(path)}. */
    public static long unlink(MemorySegment errnoCapture, MemorySegment path) {
        try {
            return result((int) Libc.unlink$MH.invokeExact(errnoCapture, path), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** {@code fcntl(fd, cmd, lock)} for the lock commands ({@code F_OFD_SETLK} and friends). */
    public static long fcntl(MemorySegment errnoCapture, int fd, int cmd, MemorySegment lock) {
        try {
            return result((int) Libc.fcntl$MH.invokeExact(errnoCapture, fd, cmd, lock), errnoCapture);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }

    /** A fresh errno capture segment for a cold call, in the given arena. */
    public static MemorySegment errnoCapture(Arena arena) {
        return arena.allocate(Libc.CAPTURE_SIZE);
    }

    /** The symbolic name of an errno value ({@code "EAGAIN"}), or {@code "errno 11"} where libc cannot name it. */
    @SuppressWarnings("restricted")
    public static String errnoName(int errno) {
        if (Libc.strerrorname_np$MH != null) {
            try {
                var name = (MemorySegment) Libc.strerrorname_np$MH.invokeExact(errno);
                if (!name.equals(MemorySegment.NULL)) {
                    return name.reinterpret(64).getString(0, StandardCharsets.US_ASCII);
                }
            } catch (Throwable t) {
                throw linkageBroken(t);
            }
        }
        return String.format(Locale.ROOT, "errno %d", errno);
    }

    /** libc's description of an errno value ({@code "Resource temporarily unavailable"}). */
    @SuppressWarnings("restricted")
    public static String strerror(int errno) {
        try {
            var text = (MemorySegment) Libc.strerror$MH.invokeExact(errno);
            return text.reinterpret(1024).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw linkageBroken(t);
        }
    }
}
