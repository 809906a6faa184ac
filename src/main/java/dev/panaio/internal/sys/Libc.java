package dev.panaio.internal.sys;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Every downcall panaio makes, as method handles built once.
 *
 * <p>The kernel AIO calls have no libc wrappers (libaio's are in libaio.so,
 * which panaio does not need), so they go through libc's variadic
 * {@code long syscall(long number, ...)}; one handle per argument shape.
 * Every variadic integer is passed as a {@code long}: that is how the C
 * default argument promotions and the kernel's register convention agree on
 * both x86_64 and aarch64. Each handle captures {@code errno}, which must be
 * read from the capture segment, never from a later call.
 *
 * <p>Names follow the C names. This class is the only place that links
 * native code; {@link Syscalls} gives typed access to it.
 */
final class Libc {
    private Libc() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();

    private static final MemoryLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** Bytes of the segment every errno-capturing handle takes first. */
    static final long CAPTURE_SIZE = CAPTURE_LAYOUT.byteSize();

    /** syscall(nr, a1): io_destroy. */
    static final MethodHandle syscall1$MH = variadicSyscall(JAVA_LONG);
    /** syscall(nr, a1, a2): io_setup, eventfd2. */
    static final MethodHandle syscall2$MH = variadicSyscall(JAVA_LONG, ADDRESS);
    static final MethodHandle syscall2ll$MH = variadicSyscall(JAVA_LONG, JAVA_LONG);
    /** syscall(nr, a1, a2, a3): io_submit, io_cancel. */
    static final MethodHandle syscall3$MH = variadicSyscall(JAVA_LONG, JAVA_LONG, ADDRESS);
    static final MethodHandle syscall3pp$MH = variadicSyscall(JAVA_LONG, ADDRESS, ADDRESS);
    /** syscall(nr, a1, ..., a5): io_getevents, statx. */
    static final MethodHandle syscall5$MH = variadicSyscall(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS);
    /** syscall(nr, fd, range, cstat, flags): cachestat. */
    static final MethodHandle syscall4cachestat$MH = variadicSyscall(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
    static final MethodHandle syscall5statx$MH = variadicSyscall(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
    /**
     * syscall(nr, fd, iov, iovcnt, pos_lo, pos_hi, flags, buffer): preadv2 and pwritev2 holding the buffer's
     * memory for the call. The kernel reads six arguments and never the seventh: {@code buffer} is there only
     * because FFM keeps the memory session of a segment argument acquired while the downcall runs, so that the
     * caller's arena cannot be closed while the kernel copies into or out of it (an address in the iovec holds
     * nothing). glibc's syscall() reads six arguments after the number; the seventh is passed in the eighth
     * argument register (aarch64) or on the stack (x86_64), and ignored.
     */
    static final MethodHandle syscall7rw$MH = variadicSyscall(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG,
            JAVA_LONG, ADDRESS);

    /** int open(const char *path, int flags, ... mode_t mode). */
    static final MethodHandle open$MH = downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2), CAPTURE_ERRNO);
    /** int close(int fd). */
    static final MethodHandle close$MH = downcall("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    /** ssize_t read(int fd, void *buf, size_t count). */
    static final MethodHandle read$MH = downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    /** ssize_t write(int fd, const void *buf, size_t count). */
    static final MethodHandle write$MH = downcall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    /** ssize_t pread(int fd, void *buf, size_t count, off_t offset), buf as an address: its memory kept alive. */
    static final MethodHandle pread$MH = downcall("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    /** ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset), buf as an address, as pread's. */
    static final MethodHandle pwrite$MH = downcall("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    /** ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags). */
    static final MethodHandle preadv2$MH = downcall("preadv2",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    /** ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags). */
    static final MethodHandle pwritev2$MH = downcall("pwritev2",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    /** int ftruncate(int fd, off_t length). */
    static final MethodHandle ftruncate$MH = downcall("ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE_ERRNO);
    /** int fallocate(int fd, int mode, off_t offset, off_t len). */
    static final MethodHandle fallocate$MH = downcall("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    /** int posix_fadvise(int fd, off_t offset, off_t len, int advice): returns the error number, sets no errno. */
    static final MethodHandle posix_fadvise$MH = downcall("posix_fadvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    /** int fsync(int fd). */
    static final MethodHandle fsync$MH = downcall("fsync",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    /** int fdatasync(int fd). */
    static final MethodHandle fdatasync$MH = downcall("fdatasync",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    /** int unlink(const char *path). */
    static final MethodHandle unlink$MH = downcall("unlink",
            FunctionDescriptor.of(JAVA_INT, ADDRESS), CAPTURE_ERRNO);
    /** int fcntl(int fd, int cmd, ... struct flock *lock): the lock commands' shape. */
    static final MethodHandle fcntl$MH = downcall("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
            Linker.Option.firstVariadicArg(2), CAPTURE_ERRNO);
    /** int getpagesize(void). */
    static final MethodHandle getpagesize$MH = downcall("getpagesize", FunctionDescriptor.of(JAVA_INT));
    /** char *strerror(int errnum): only on error paths, so thread-safety of its buffer is moot for glibc. */
    static final MethodHandle strerror$MH = downcall("strerror",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));
    /** const char *strerrorname_np(int errnum): glibc 2.32+; null where the libc lacks it. */
    static final MethodHandle strerrorname_np$MH = LIBC.find("strerrorname_np").isPresent()
            ? downcall("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT))
            : null;

    private static MethodHandle variadicSyscall(MemoryLayout... args) {
        var layouts = new MemoryLayout[args.length + 1];
        layouts[0] = JAVA_LONG;
        System.arraycopy(args, 0, layouts, 1, args.length);
        return downcall("syscall", FunctionDescriptor.of(JAVA_LONG, layouts),
                Linker.Option.firstVariadicArg(1), CAPTURE_ERRNO);
    }

    @SuppressWarnings("restricted")
    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }
}
