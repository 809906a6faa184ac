package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.flock;
import dev.panaio.internal.gen.aio_abi.statx;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;

/**
 * The calls a channel makes on its one descriptor besides reads and writes:
 * force, the file's identity, and open-file-description locks.
 *
 * <p>Each call holds a use of the descriptor while it runs, so that a
 * concurrent close never lets the number be reused under it; a closed file
 * gives {@link ClosedChannelException}.
 *
 * <p>Thread-safe: stateless.
 */
public final class DescriptorCalls {
    private DescriptorCalls() {
    }

    /** {@code STATX_INO} from {@code <linux/stat.h>} (the device numbers come with every statx). */
    private static final int STATX_INO = 0x100;

    /** The identity of an open file: what two descriptors of one file share. */
    public record FileKey(long device, long inode) {
    }

    /** {@code fsync} (with metadata) or {@code fdatasync}. EINTR is retried. */
    public static void force(AioFile file, boolean metaData) throws IOException {
        FileDescriptorHandle handle = handle(file);
        int fd = acquire(handle);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Syscalls.errnoCapture(arena);
            long ret = Syscalls.restartOnEintr(() -> metaData ? Syscalls.fsync(errno, fd)
                    : Syscalls.fdatasync(errno, fd));
            if (ret < 0) {
                throw ErrnoExceptions.of(metaData ? "fsync" : "fdatasync", file.path().toString(), (int) -ret);
            }
        } finally {
            handle.release();
        }
    }

    /** The file's device and inode numbers, from {@code statx}. */
    public static FileKey key(AioFile file) throws IOException {
        FileDescriptorHandle handle = handle(file);
        int fd = acquire(handle);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = statx.allocate(arena);
            long ret = Syscalls.statx(Syscalls.errnoCapture(arena), fd, arena.allocateFrom(""),
                    aio_abi_h.AT_EMPTY_PATH(), STATX_INO, buf);
            if (ret < 0) {
                throw ErrnoExceptions.of("statx", file.path() + ", STATX_INO", (int) -ret);
            }
            long device = (Integer.toUnsignedLong(statx.stx_dev_major(buf)) << 32)
                    | Integer.toUnsignedLong(statx.stx_dev_minor(buf));
            return new FileKey(device, statx.stx_ino(buf));
        } finally {
            handle.release();
        }
    }

    /**
     * One {@code fcntl(F_OFD_SETLK)}: takes a read or write lock on a range,
     * or releases it, without waiting.
     *
     * @param type {@code F_RDLCK}, {@code F_WRLCK} or {@code F_UNLCK}
     * @param size as {@code FileLock.size()}; {@code Long.MAX_VALUE} means to the end of the file, whatever it grows to
     * @return whether the lock was taken (false: another open file description holds a conflicting lock)
     */
    public static boolean setLock(AioFile file, int type, long position, long size) throws IOException {
        FileDescriptorHandle handle = handle(file);
        int fd = acquire(handle);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lock = flock.allocate(arena); // zeroed: l_pid must be 0 for an OFD lock
            flock.l_type(lock, (short) type);
            flock.l_whence(lock, (short) aio_abi_h.SEEK_SET());
            flock.l_start(lock, position);
            flock.l_len(lock, size == Long.MAX_VALUE ? 0 : size); // as the JDK: 0 is "to the end, and beyond"
            MemorySegment errno = Syscalls.errnoCapture(arena);
            long ret = Syscalls.restartOnEintr(() -> Syscalls.fcntl(errno, fd, aio_abi_h.F_OFD_SETLK(), lock));
            if (ret == -ErrnoExceptions.EAGAIN || ret == -aio_abi_h.EACCES()) {
                return false;
            }
            if (ret < 0) {
                throw ErrnoExceptions.of("fcntl", String.format(Locale.ROOT, "%s, F_OFD_SETLK, {%s, %d, %d}",
                        file.path(), type == aio_abi_h.F_RDLCK() ? "F_RDLCK" : type == aio_abi_h.F_WRLCK()
                                ? "F_WRLCK" : "F_UNLCK", position, size), (int) -ret);
            }
            return true;
        } finally {
            handle.release();
        }
    }

    private static FileDescriptorHandle handle(AioFile file) {
        return SharedSecrets.fileAccess().handle(file);
    }

    private static int acquire(FileDescriptorHandle handle) throws ClosedChannelException {
        try {
            return handle.acquire();
        } catch (IllegalStateException closed) {
            throw new ClosedChannelException();
        }
    }

    /** A call on a channel's descriptor that may block, which the channel runs between its begin and end. */
    @FunctionalInterface
    public interface Call<T> {
        /**
         * Makes the call.
         *
         * @return its result
         * @throws IOException its error
         */
        T call() throws IOException;
    }
}
