package dev.panaio.internal.sys;

import dev.panaio.AioException;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The one place where an errno becomes an exception.
 *
 * <p>Messages name the call with its arguments, the errno's name and libc's
 * description, and the remedy where one is known. They are formatted with
 * {@link Locale#ROOT}.
 */
public final class ErrnoExceptions {
    private ErrnoExceptions() {
    }

    public static final int EPERM = aio_abi_h.EPERM();
    public static final int EINTR = aio_abi_h.EINTR();
    public static final int EAGAIN = aio_abi_h.EAGAIN();
    public static final int EBADF = aio_abi_h.EBADF();
    public static final int EINVAL = aio_abi_h.EINVAL();
    public static final int ENOMEM = aio_abi_h.ENOMEM();
    public static final int ENOSYS = aio_abi_h.ENOSYS();
    public static final int EOPNOTSUPP = aio_abi_h.EOPNOTSUPP();
    public static final int EINPROGRESS = aio_abi_h.EINPROGRESS();
    public static final int EFAULT = aio_abi_h.EFAULT();

    public static final Path AIO_NR = Path.of("/proc/sys/fs/aio-nr");
    public static final Path AIO_MAX_NR = Path.of("/proc/sys/fs/aio-max-nr");

    /** {@code "EAGAIN"}. */
    public static String name(int errno) {
        return Syscalls.errnoName(errno);
    }

    /** {@code "EAGAIN (Resource temporarily unavailable)"}. */
    public static String describe(int errno) {
        return name(errno) + " (" + Syscalls.strerror(errno) + ")";
    }

    /** The exception for {@code call(args)} failing with {@code errno}, with the remedy where one is known. */
    public static AioException of(String call, String args, int errno) {
        String remedy = remedy(call, errno);
        return SharedSecrets.exceptionAccess().aioException(message(call, args, errno, remedy), call, errno);
    }

    public static String message(String call, String args, int errno, String remedy) {
        return String.format(Locale.ROOT, "%s(%s) failed: %s%s", call, args, describe(errno),
                remedy == null ? "" : ": " + remedy);
    }

    private static String remedy(String call, int errno) {
        if (errno == ENOSYS) {
            return "this kernel has no native AIO (built without CONFIG_AIO, or the calls are blocked by a seccomp "
                    + "filter such as a container's); panaio cannot work here";
        }
        if (call.equals("io_setup") && errno == ENOMEM) {
            return "each AIO context is one memory mapping: the process may have reached vm.max_map_count "
                    + "(" + readProcLong(Path.of("/proc/sys/vm/max_map_count")) + "); close unused contexts";
        }
        if (call.equals("io_setup") && errno == EINVAL) {
            return "the capacity must be between 1 and what the kernel can map (fs.aio-max-nr "
                    + readProcLong(AIO_MAX_NR) + ")";
        }
        if (call.equals("io_submit") && errno == EBADF) {
            return "the file descriptor is not open, or was not opened for this kind of access";
        }
        if (call.equals("fallocate") && errno == aio_abi_h.ENOSPC()) {
            return "the filesystem has no free blocks for the range";
        }
        if (call.equals("fallocate") && errno == EBADF) {
            return "the file was not opened for writing";
        }
        if (call.equals("fallocate") && errno == EINVAL) {
            return "the filesystem refused this mode or range";
        }
        if (call.equals("io_submit") && errno == EOPNOTSUPP) {
            return "the filesystem or kernel does not support one of the request's rw flags";
        }
        return null;
    }

    /** A request completed with {@code -errno}: the exception its caller sees. */
    public static AioException forResult(String call, String request, int errno) {
        String remedy = null;
        if (errno == EINVAL) {
            remedy = "for direct I/O, check the buffer, position and length against the file's DirectAlignment";
        } else if (errno == EAGAIN) {
            remedy = "RWF_NOWAIT: the request would have blocked";
        } else if (errno == EOPNOTSUPP) {
            remedy = "the filesystem does not support this request or one of its flags";
        }
        return SharedSecrets.exceptionAccess().aioException(String.format(Locale.ROOT, "%s failed: %s%s", request,
                describe(errno), remedy == null ? "" : ": " + remedy), call, errno);
    }

    /**
     * io_setup failed: EAGAIN and ENOMEM get their own type, naming fs.aio-max-nr and how far it is used, or
     * vm.max_map_count.
     */
    public static AioException ioSetup(int nr, int errno) {
        long aioNr = readProcLong(AIO_NR);
        long aioMaxNr = readProcLong(AIO_MAX_NR);
        if (errno == ENOMEM) {
            // Callers act as for EAGAIN: fewer contexts. The remedy names the mapping limit.
            return SharedSecrets.exceptionAccess().aioLimitException(message("io_setup", "nr=" + nr, errno,
                    remedy("io_setup", errno)), errno, aioNr, aioMaxNr);
        }
        if (errno != EAGAIN) {
            return of("io_setup", "nr=" + nr, errno);
        }
        String remedy = String.format(Locale.ROOT,
                "the system-wide AIO event budget is used up: fs.aio-nr is %d of fs.aio-max-nr %d, and this "
                        + "context asks for %d more. Close unused contexts, ask for a smaller capacity, or raise "
                        + "the limit as root: sysctl -w fs.aio-max-nr=%d", aioNr, aioMaxNr, nr,
                Math.max(aioMaxNr * 2, aioNr + nr));
        return SharedSecrets.exceptionAccess().aioLimitException(message("io_setup", "nr=" + nr, errno, remedy),
                errno, aioNr, aioMaxNr);
    }

    /**
     * A long read from a /proc or /sys file, or -1 where it cannot be read.
     * Not {@code Files.readString}: on a sysctl file (size 0) it returns only
     * the first byte on JDK 25, so "65536" would read as 6.
     */
    public static long readProcLong(Path file) {
        try {
            return Long.parseLong(Files.readAllLines(file).get(0).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
