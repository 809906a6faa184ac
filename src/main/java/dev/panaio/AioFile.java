package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.statx;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.sys.CallScratch;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.MountTable;
import dev.panaio.internal.sys.NativeAccess;
import dev.panaio.internal.sys.Syscalls;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.ProviderMismatchException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * An open file that {@link AioContext} requests can name.
 *
 * <p>Open it with the same options as {@link java.nio.channels.FileChannel#open};
 * add {@link ExtendedOpenOption#DIRECT} for direct I/O ({@code O_DIRECT}), the
 * only mode in which Linux AIO is truly asynchronous. A direct file knows its
 * {@link #alignment()}, and requests that break it are rejected in Java with
 * {@link MisalignedIoException} before the kernel sees them.
 * {@snippet :
 * try (AioFile file = AioFile.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
 *     DirectAlignment rules = file.alignment(); // e.g. 512 / 512 on ext4
 * }
 * }
 *
 * <p>Thread-safe. Closing the file while requests naming it are prepared but
 * not yet submitted is safe: the descriptor is closed once they have been
 * submitted or discarded, and the kernel keeps the file open for requests in
 * flight. An {@link AioContext} holds one use of the file it last submitted
 * to (so that a stream of requests on one file costs no atomic operation
 * each); after {@code close()}, that descriptor is closed at the context's
 * next submit or reap, or when the context closes.
 */
public final class AioFile implements Pollable, Closeable {
    static {
        SharedSecrets.setFileAccess(new SharedSecrets.FileAccess() {
            @Override
            public FileDescriptorHandle handle(AioFile file) {
                return file.handle;
            }

            @Override
            public AioFile open(Path path, Set<? extends OpenOption> options, int mode) throws IOException {
                return AioFile.open(path, options, mode);
            }

            @Override
            public boolean refusesNowait(AioFile file) {
                return file.refusesNowait;
            }

            @Override
            public void refuseNowait(AioFile file) {
                file.refusesNowait = true;
            }
        });
    }

    /** Set once io_submit refused RWF_NOWAIT on this file (tmpfs), so that the engine stops adding it. */
    private volatile boolean refusesNowait;

    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_RDWR = 2;
    private static final int O_CREAT = 0100;
    private static final int O_EXCL = 0200;
    private static final int O_TRUNC = 01000;
    private static final int O_APPEND = 02000;
    private static final int O_DSYNC = 010000;
    private static final int O_SYNC = 04010000;
    private static final int O_CLOEXEC = 02000000;
    private static final int DEFAULT_MODE = 0666;

    private final Path path;
    private final boolean readable;
    private final boolean writable;
    private final boolean direct;
    final FileDescriptorHandle handle;
    private volatile DirectAlignment alignment;

    private AioFile(Path path, int fd, boolean readable, boolean writable, boolean direct) {
        this.path = path;
        this.readable = readable;
        this.writable = writable;
        this.direct = direct;
        this.handle = new FileDescriptorHandle(fd, "AioFile " + path);
    }

    /**
     * Opens a file.
     *
     * @param path    a file of the default filesystem
     * @param options as for {@link java.nio.channels.FileChannel#open(Path, OpenOption...)}: READ (the default),
     *                WRITE, APPEND, CREATE, CREATE_NEW, TRUNCATE_EXISTING, DELETE_ON_CLOSE (the file is unlinked
     *                right after it is opened, as the JDK does on Linux), SPARSE (ignored), DSYNC, SYNC,
     *                {@link LinkOption#NOFOLLOW_LINKS}, and {@link ExtendedOpenOption#DIRECT}
     * @return the open file
     * @throws NoSuchFileException          if the file does not exist and is not to be created
     * @throws FileAlreadyExistsException   for CREATE_NEW on an existing file
     * @throws AccessDeniedException        when permissions refuse the access asked for
     * @throws DirectIoUnsupportedException if DIRECT was asked for on a filesystem without O_DIRECT, naming it
     * @throws IllegalArgumentException      for READ + APPEND, or APPEND + TRUNCATE_EXISTING, as the JDK
     * @throws UnsupportedOperationException for an option that is not one of the above, as the JDK
     * @throws java.nio.file.ProviderMismatchException for a path of a file system other than the operating system's (a zip file's, say)
     * @throws FileSystemException for any other failure of open(2) (a directory opened for writing, a symbolic
     *                             link with NOFOLLOW_LINKS), as the JDK
     */
    public static AioFile open(Path path, OpenOption... options) throws IOException {
        Objects.requireNonNull(options, "options");
        Set<OpenOption> set = new HashSet<>();
        for (OpenOption option : options) {
            set.add(Objects.requireNonNull(option, "option"));
        }
        return open(path, set, DEFAULT_MODE);
    }

    /** Opens a file with the JDK's option rules; {@code mode} is the permissions of a file it creates. */
    private static AioFile open(Path path, Set<? extends OpenOption> options, int mode) throws IOException {
        Objects.requireNonNull(path, "path");
        // The platform's file system, or one that stands in for it as the default (panaio's own provider
        // hands over the platform's paths): both name files of the operating system.
        if (!"file".equals(path.getFileSystem().provider().getScheme())) {
            throw new ProviderMismatchException("panaio opens files of the operating system's file system only "
                    + "(the file scheme), not of " + path.getFileSystem().provider().getScheme() + ": " + path);
        }
        NativeAccess.ensureEnabled();
        boolean read = false;
        boolean write = false;
        boolean append = false;
        boolean direct = false;
        boolean create = false;
        boolean createNew = false;
        boolean truncate = false;
        boolean noFollow = false;
        boolean deleteOnClose = false;
        int flags = O_CLOEXEC;
        for (OpenOption option : options) {
            Objects.requireNonNull(option, "option");
            if (option == StandardOpenOption.READ) {
                read = true;
            } else if (option == StandardOpenOption.WRITE) {
                write = true;
            } else if (option == StandardOpenOption.APPEND) {
                append = true;
            } else if (option == StandardOpenOption.CREATE) {
                create = true;
            } else if (option == StandardOpenOption.CREATE_NEW) {
                createNew = true;
            } else if (option == StandardOpenOption.TRUNCATE_EXISTING) {
                truncate = true;
            } else if (option == StandardOpenOption.DELETE_ON_CLOSE) {
                deleteOnClose = true;
            } else if (option == LinkOption.NOFOLLOW_LINKS) {
                noFollow = true;
            } else if (option == StandardOpenOption.DSYNC) {
                flags |= O_DSYNC;
            } else if (option == StandardOpenOption.SYNC) {
                flags |= O_SYNC;
            } else if (option == ExtendedOpenOption.DIRECT) {
                direct = true;
            } else if (option != StandardOpenOption.SPARSE) {
                throw new UnsupportedOperationException(option + " not supported");
            }
        }
        if (read && append) {
            throw new IllegalArgumentException("READ + APPEND not allowed");
        }
        if (append && truncate) {
            throw new IllegalArgumentException("APPEND + TRUNCATE_EXISTING not allowed");
        }
        if (!read && !write) {
            if (append) {
                write = true;
            } else {
                read = true;
            }
        }
        flags |= read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
        // As FileChannel: creating, truncating and appending apply to files opened for writing only.
        if (write) {
            if (truncate) {
                flags |= O_TRUNC;
            }
            if (append) {
                flags |= O_APPEND;
            }
            if (createNew) {
                flags |= O_CREAT | O_EXCL;
            } else if (create) {
                flags |= O_CREAT;
            }
        }
        // As the JDK: DELETE_ON_CLOSE never follows a link, so that it cannot delete the link's target.
        if (!(write && createNew) && (noFollow || deleteOnClose)) {
            flags |= Syscalls.architecture().oNofollow;
        }
        if (direct) {
            flags |= Syscalls.architecture().oDirect;
        }
        String name = path.toString();
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("path contains a NUL character: " + name);
        }
        CallScratch scratch = CallScratch.get();
        MemorySegment cPath = scratch.path(name);
        long fd = Syscalls.open(scratch.errno, cPath, flags, mode);
        if (fd >= 0 && deleteOnClose) {
            Syscalls.unlink(scratch.errno, cPath); // as the JDK on Linux: right after the open, failures ignored
        }
        if (fd < 0) {
            throw openFailure(path, (int) -fd, direct, write && createNew);
        }
        return new AioFile(path, (int) fd, read, write, direct);
    }

    private static IOException openFailure(Path path, int errno, boolean direct, boolean createNew) {
        String file = path.toString();
        String reason = ErrnoExceptions.describe(errno);
        if (errno == 2) { // ENOENT
            return new NoSuchFileException(file, null, reason);
        }
        // CREATE_NEW on a directory: the kernel says EISDIR, the JDK says the file exists.
        if (errno == 17 || errno == aio_abi_h.EISDIR() && createNew) { // EEXIST
            return new FileAlreadyExistsException(file, null, reason);
        }
        if (errno == 13 || errno == 1) { // EACCES, EPERM
            return new AccessDeniedException(file, null, reason);
        }
        if (errno == ErrnoExceptions.EINVAL && direct) {
            return new DirectIoUnsupportedException(path, MountTable.filesystemType(path));
        }
        if (errno == aio_abi_h.ELOOP()) { // what the JDK says for NOFOLLOW_LINKS on a link
            return new FileSystemException(file, null, reason + " or unable to access attributes of symbolic link");
        }
        return new FileSystemException(file, null, reason); // EISDIR and the rest: the JDK's type
    }

    /**
     * The path the file was opened with.
     *
     * @return the path
     */
    public Path path() {
        return path;
    }

    /**
     * Whether the file was opened for direct I/O ({@code O_DIRECT}).
     *
     * @return true for direct I/O
     */
    public boolean isDirect() {
        return direct;
    }

    /**
     * Whether requests may read from the file.
     *
     * @return true if opened for reading
     */
    public boolean isReadable() {
        return readable;
    }

    /**
     * Whether requests may write to the file.
     *
     * @return true if opened for writing or appending
     */
    public boolean isWritable() {
        return writable;
    }

    /**
     * Whether the file is open.
     *
     * @return false once closed
     */
    public boolean isOpen() {
        return handle.isOpen();
    }

    /**
     * What direct I/O on this file requires, learned once: from
     * {@code statx(STATX_DIOALIGN)}, else the device's logical block size,
     * else 4096.
     *
     * @return the alignment, cached after the first call
     * @throws ClosedChannelException if the file is closed
     */
    public DirectAlignment alignment() throws IOException {
        DirectAlignment known = alignment;
        if (known == null) {
            known = alignment = learnAlignment();
        }
        return known;
    }

    /**
     * The file's size in bytes, from statx.
     *
     * @return the size
     * @throws ClosedChannelException if the file is closed
     * @throws IOException            if statx fails
     */
    public long size() throws IOException {
        return stat(aio_abi_h.STATX_SIZE(), statx::stx_size);
    }

    /**
     * Truncates or extends the file to {@code size} bytes.
     *
     * @param size the new size in bytes
     * @throws IllegalArgumentException if size is negative
     * @throws ClosedChannelException   if the file is closed
     * @throws IOException              if ftruncate fails
     */
    public void truncate(long size) throws IOException {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative: " + size);
        }
        int fd = acquireOrThrowClosed();
        try (Arena arena = Arena.ofConfined()) {
            long ret = Syscalls.ftruncate(Syscalls.errnoCapture(arena), fd, size);
            if (ret < 0) {
                throw ErrnoExceptions.of("ftruncate", path + ", " + size, (int) -ret);
            }
        } finally {
            handle.release();
        }
    }

    /**
     * Allocates disk blocks for {@code length} bytes at {@code position}
     * ({@code fallocate}), so that later writes there need no allocation: an
     * O_DIRECT append into preallocated space neither extends the file in
     * {@code io_submit} nor fails with ENOSPC. With {@code keepSize}
     * ({@code FALLOC_FL_KEEP_SIZE}) the file's size stays as it is; without,
     * it grows to at least {@code position + length}. The new blocks read as
     * zeros.
     * {@snippet :
     * try (AioFile journal = AioFile.open(path, READ, WRITE, CREATE, ExtendedOpenOption.DIRECT)) {
     *     journal.preallocate(0, 64L << 20, true); // 64 MiB of blocks, size still 0: appends stay cheap
     * }
     * }
     *
     * @param position the first byte of the range
     * @param length   bytes in the range, at least 1
     * @param keepSize whether the file's size stays as it is ({@code FALLOC_FL_KEEP_SIZE}); if not, a range past
     *                 the end extends the file, which then reads as zeros there
     * @throws IllegalArgumentException          if position is negative, length is not positive, or their sum
     *                                           overflows
     * @throws FileOperationUnsupportedException if the filesystem cannot preallocate (EOPNOTSUPP), naming it
     * @throws AioException                      for any other errno (ENOSPC, EBADF for a file not opened for
     *                                           writing, EFBIG), naming it
     * @throws ClosedChannelException            if the file is closed
     */
    public void preallocate(long position, long length, boolean keepSize) throws IOException {
        fallocate(keepSize ? aio_abi_h.FALLOC_FL_KEEP_SIZE() : 0, position, length);
    }

    /**
     * Deallocates the blocks of {@code length} bytes at {@code position}
     * ({@code fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)}): the
     * range reads as zeros afterwards and the size does not change. Partial
     * blocks at either end are zeroed rather than freed.
     *
     * @param position the first byte of the range
     * @param length   bytes in the range, at least 1
     * @throws IllegalArgumentException          as {@link #preallocate}
     * @throws FileOperationUnsupportedException if the filesystem cannot punch holes (EOPNOTSUPP), naming it
     * @throws AioException                      for any other errno, naming it
     * @throws ClosedChannelException            if the file is closed
     */
    public void punchHole(long position, long length) throws IOException {
        fallocate(aio_abi_h.FALLOC_FL_PUNCH_HOLE() | aio_abi_h.FALLOC_FL_KEEP_SIZE(), position, length);
    }

    private void fallocate(int mode, long position, long length) throws IOException {
        checkRange(position, length, false);
        int fd = acquireOrThrowClosed();
        try (Arena arena = Arena.ofConfined()) {
            long ret = Syscalls.fallocate(Syscalls.errnoCapture(arena), fd, mode, position, length);
            if (ret < 0) {
                throw rangeCallFailed("fallocate", String.format(Locale.ROOT, "%s, mode=0x%x, offset=%d, len=%d",
                        path, mode, position, length), (int) -ret);
            }
        } finally {
            handle.release();
        }
    }

    /**
     * Tells the kernel how the range will be read ({@code posix_fadvise}), so
     * that it can size readahead or drop cached pages. Advice only: it changes
     * no data. A {@code length} of 0 means to the end of the file.
     *
     * @param position the first byte of the range
     * @param length   bytes in the range, or 0 for everything from position to the end of the file
     * @param advice   how the range will be used
     * @throws IllegalArgumentException          if position or length is negative, or their sum overflows
     * @throws FileOperationUnsupportedException if the file cannot take advice (EOPNOTSUPP), naming its filesystem
     * @throws AioException                      for any other errno (EINVAL, ESPIPE), naming it
     * @throws ClosedChannelException            if the file is closed
     */
    public void advise(long position, long length, Advice advice) throws IOException {
        Objects.requireNonNull(advice, "advice");
        checkRange(position, length, true);
        int fd = acquireOrThrowClosed();
        try {
            long ret = Syscalls.posix_fadvise(fd, position, length, advice.value());
            if (ret < 0) {
                throw rangeCallFailed("posix_fadvise", String.format(Locale.ROOT, "%s, offset=%d, len=%d, %s", path,
                        position, length, advice), (int) -ret);
            }
        } finally {
            handle.release();
        }
    }

    private static void checkRange(long position, long length, boolean zeroLengthAllowed) {
        if (position < 0) {
            throw new IllegalArgumentException("position must not be negative: " + position);
        }
        if (length < 0 || length == 0 && !zeroLengthAllowed) {
            throw new IllegalArgumentException("length must be " + (zeroLengthAllowed ? "0 or more" : "positive")
                    + ": " + length);
        }
        if (position + length < 0) {
            throw new IllegalArgumentException("position " + position + " + length " + length + " overflows a long");
        }
    }

    /** EOPNOTSUPP names the filesystem, which a caller may fall back from; the rest go through the one helper. */
    private AioException rangeCallFailed(String call, String args, int errno) {
        if (errno == ErrnoExceptions.EOPNOTSUPP) {
            return new FileOperationUnsupportedException(call, args, path, MountTable.filesystemType(path), errno,
                    ErrnoExceptions.describe(errno));
        }
        return ErrnoExceptions.of(call, args, errno);
    }

    /** Closes the file. Idempotent. */
    @Override
    public void close() throws IOException {
        int errno = handle.close();
        if (errno != 0) {
            throw ErrnoExceptions.of("close", path.toString(), errno);
        }
    }

    @Override
    public String toString() {
        return "AioFile[" + path + (direct ? ", direct" : "") + (isOpen() ? "" : ", closed") + "]";
    }

    /** Runs statx on the open file and reads the answer with {@code reader}, while the buffer is alive. */
    private <T> T stat(int mask, java.util.function.Function<MemorySegment, T> reader) throws IOException {
        int fd = acquireOrThrowClosed();
        try {
            CallScratch scratch = CallScratch.get();
            MemorySegment buf = scratch.statx;
            long ret = Syscalls.statx(scratch.errno, fd, scratch.emptyPath, aio_abi_h.AT_EMPTY_PATH(), mask, buf);
            if (ret < 0) {
                throw ErrnoExceptions.of("statx", path + ", mask=0x" + Integer.toHexString(mask), (int) -ret);
            }
            return reader.apply(buf);
        } finally {
            handle.release();
        }
    }

    private DirectAlignment learnAlignment() throws IOException {
        int dioAlign = aio_abi_h.STATX_DIOALIGN();
        DirectAlignment fromStatx = stat(dioAlign, buf ->
                (statx.stx_mask(buf) & dioAlign) != 0 && statx.stx_dio_mem_align(buf) != 0
                        ? new DirectAlignment(Integer.toUnsignedLong(statx.stx_dio_mem_align(buf)),
                        Integer.toUnsignedLong(statx.stx_dio_offset_align(buf)), DirectAlignment.Source.STATX)
                        : null);
        if (fromStatx != null) {
            return fromStatx;
        }
        String device = stat(0, buf -> String.format(Locale.ROOT, "%d:%d",
                Integer.toUnsignedLong(statx.stx_dev_major(buf)), Integer.toUnsignedLong(statx.stx_dev_minor(buf))));
        // A partition's sysfs node has no queue/ of its own: the whole disk's is one level up.
        for (String queue : new String[] {"queue", "../queue"}) {
            long size = ErrnoExceptions.readProcLong(Path.of("/sys/dev/block", device, queue, "logical_block_size"));
            if (size > 0 && Long.bitCount(size) == 1) {
                return new DirectAlignment(size, size, DirectAlignment.Source.LOGICAL_BLOCK_SIZE);
            }
        }
        return new DirectAlignment(4096, 4096, DirectAlignment.Source.DEFAULT);
    }

    private int acquireOrThrowClosed() throws ClosedChannelException {
        try {
            return handle.acquire();
        } catch (IllegalStateException closed) {
            throw new ClosedChannelException();
        }
    }
}
