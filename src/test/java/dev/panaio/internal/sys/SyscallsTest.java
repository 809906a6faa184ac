package dev.panaio.internal.sys;

import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;
import dev.panaio.internal.gen.aio_abi.__kernel_timespec;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.io_event;
import dev.panaio.internal.gen.aio_abi.iocb;
import dev.panaio.internal.gen.aio_abi.statx;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernel's rules for the AIO system calls, seen through {@link Syscalls}
 * with hand-built iocbs: the layer everything else in panaio stands on. Each
 * test is one rule; results are the kernel's own ({@code -errno} on failure).
 */
class SyscallsTest {
    private static final int EAGAIN = aio_abi_h.EAGAIN();
    private static final int EBADF = aio_abi_h.EBADF();
    private static final int EINVAL = aio_abi_h.EINVAL();
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 02000000;
    private static final int EFD_NONBLOCK = 04000;
    private static final int EFD_CLOEXEC = 02000000;
    private static final int AT_FDCWD = -100;
    private static final int SEED = 11;

    @TempDir
    Path dir;

    private Arena arena;
    private MemorySegment errno;
    private final List<Long> contexts = new ArrayList<>();
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void openArena() {
        arena = Arena.ofConfined();
        errno = Syscalls.errnoCapture(arena);
    }

    @AfterEach
    void releaseEverything() {
        for (long ctx : contexts) {
            Syscalls.io_destroy(errno, ctx); // waits for anything still in flight before the arena goes
        }
        for (int fd : fds) {
            Syscalls.close(errno, fd);
        }
        arena.close();
    }

    private long setup(int nr) {
        MemorySegment ctxp = arena.allocate(ValueLayout.JAVA_LONG);
        assertThat(Syscalls.io_setup(errno, nr, ctxp)).as("io_setup(%d)", nr).isZero();
        long ctx = ctxp.get(ValueLayout.JAVA_LONG, 0);
        contexts.add(ctx);
        return ctx;
    }

    private int openForReading(Path file) {
        long fd = Syscalls.open(errno, arena.allocateFrom(file.toString()), O_RDONLY | O_CLOEXEC, 0);
        assertThat(fd).as("open(%s)", file).isNotNegative();
        fds.add((int) fd);
        return (int) fd;
    }

    private MemorySegment preadIocb(int fd, MemorySegment buffer, long offset, long data) {
        MemorySegment cb = iocb.allocate(arena); // zeroed, as every reserved field must be
        iocb.aio_data(cb, data);
        iocb.aio_lio_opcode(cb, (short) aio_abi_h.IOCB_CMD_PREAD());
        iocb.aio_fildes(cb, fd);
        iocb.aio_buf(cb, buffer.address());
        iocb.aio_nbytes(cb, buffer.byteSize());
        iocb.aio_offset(cb, offset);
        return cb;
    }

    private MemorySegment pointers(MemorySegment... iocbs) {
        MemorySegment array = arena.allocate(ValueLayout.ADDRESS, iocbs.length);
        for (int i = 0; i < iocbs.length; i++) {
            array.setAtIndex(ValueLayout.ADDRESS, i, iocbs[i]);
        }
        return array;
    }

    private MemorySegment zeroTimeout() {
        return __kernel_timespec.allocate(arena);
    }

    private MemorySegment timeoutSeconds(long seconds) {
        MemorySegment timespec = __kernel_timespec.allocate(arena);
        __kernel_timespec.tv_sec(timespec, seconds);
        return timespec;
    }

    private int readableFile() throws IOException {
        return openForReading(TestData.writeFile(dir.resolve("data"), 8192, SEED));
    }

    @Test
    void shouldRejectIoSetupOfZeroEventsWithEinval() {
        MemorySegment ctxp = arena.allocate(ValueLayout.JAVA_LONG);
        assertThat(Syscalls.io_setup(errno, 0, ctxp)).isEqualTo(-EINVAL);
        assertThat(ctxp.get(ValueLayout.JAVA_LONG, 0)).as("no context was made").isZero();
    }

    @Test
    void shouldRejectIoSetupWhenTheContextWordIsNotZero() {
        MemorySegment ctxp = arena.allocate(ValueLayout.JAVA_LONG);
        ctxp.set(ValueLayout.JAVA_LONG, 0, 1L);
        assertThat(Syscalls.io_setup(errno, 8, ctxp)).isEqualTo(-EINVAL);
        assertThat(ctxp.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(1L);
    }

    @Test
    void shouldFailTheWholeBatchWithEbadfWhenTheFirstIocbHasABadDescriptor() throws IOException {
        long ctx = setup(8);
        int fd = readableFile();
        MemorySegment bad = preadIocb(-1, arena.allocate(512), 0, 1);
        MemorySegment good = preadIocb(fd, arena.allocate(512), 0, 2);

        assertThat(Syscalls.io_submit(errno, ctx, 2, pointers(bad, good))).isEqualTo(-EBADF);

        MemorySegment events = io_event.allocateArray(4, arena);
        assertThat(Syscalls.io_getevents(errno, ctx, 0, 4, events, zeroTimeout()))
                .as("the good iocb after the bad one was never submitted").isZero();
    }

    @Test
    void shouldCountOnlyTheIocbsBeforeABadOneWithoutReportingItsError() throws IOException {
        long ctx = setup(8);
        int fd = readableFile();
        MemorySegment good = preadIocb(fd, arena.allocate(512), 0, 1);
        MemorySegment bad = preadIocb(-1, arena.allocate(512), 0, 2);

        assertThat(Syscalls.io_submit(errno, ctx, 2, pointers(good, bad))).isEqualTo(1);

        MemorySegment events = io_event.allocateArray(4, arena);
        assertThat(Syscalls.io_getevents(errno, ctx, 1, 4, events, timeoutSeconds(10))).isEqualTo(1);
        assertThat(io_event.data(events)).isEqualTo(1);
        assertThat(io_event.res(events)).isEqualTo(512);
        assertThat(io_event.obj(events)).as("obj is the iocb's user address").isEqualTo(good.address());
    }

    @Test
    void shouldRejectAnIocbWhoseReservedFieldIsSet() throws IOException {
        long ctx = setup(8);
        MemorySegment cb = preadIocb(readableFile(), arena.allocate(512), 0, 1);
        iocb.aio_reserved2(cb, 1);
        assertThat(Syscalls.io_submit(errno, ctx, 1, pointers(cb))).isEqualTo(-EINVAL);
    }

    @Test
    void shouldRejectTheOpcodesLinuxDoesNotImplement() throws IOException {
        long ctx = setup(8);
        int fd = readableFile();
        for (short opcode : new short[] {4, 6, 9, 100}) { // 4 was never used, 6 is NOOP, 9+ do not exist
            MemorySegment cb = preadIocb(fd, arena.allocate(512), 0, opcode);
            iocb.aio_lio_opcode(cb, opcode);
            assertThat(Syscalls.io_submit(errno, ctx, 1, pointers(cb))).as("opcode %d", opcode).isEqualTo(-EINVAL);
        }
    }

    @Test
    void shouldAcceptAnEmptyBatchAndRejectANegativeCount() {
        long ctx = setup(8);
        MemorySegment none = arena.allocate(ValueLayout.ADDRESS);
        assertThat(Syscalls.io_submit(errno, ctx, 0, none)).isZero();
        assertThat(Syscalls.io_submit(errno, ctx, -1, none)).isEqualTo(-EINVAL);
    }

    @Test
    void shouldReadThePriorityFieldOnlyWhenTheIoprioFlagIsSet() throws IOException {
        long ctx = setup(8);
        int fd = readableFile();
        short noSuchClass = (short) (7 << aio_abi_h.IOPRIO_CLASS_SHIFT());

        MemorySegment ignored = preadIocb(fd, arena.allocate(512), 0, 1);
        iocb.aio_reqprio(ignored, noSuchClass);
        assertThat(Syscalls.io_submit(errno, ctx, 1, pointers(ignored))).isEqualTo(1);

        MemorySegment checked = preadIocb(fd, arena.allocate(512), 0, 2);
        iocb.aio_reqprio(checked, noSuchClass);
        iocb.aio_flags(checked, aio_abi_h.IOCB_FLAG_IOPRIO());
        assertThat(Syscalls.io_submit(errno, ctx, 1, pointers(checked))).isEqualTo(-EINVAL);
    }

    @Test
    void shouldReturnAtOnceFromIoGeteventsWithMinimumZeroAndAZeroTimeout() {
        long ctx = setup(8);
        MemorySegment events = io_event.allocateArray(8, arena);
        assertThat(Syscalls.io_getevents(errno, ctx, 0, 8, events, zeroTimeout())).isZero();
    }

    @Test
    void shouldRejectIoGeteventsOnAContextThatDoesNotExist() {
        MemorySegment events = io_event.allocateArray(1, arena);
        assertThat(Syscalls.io_getevents(errno, 0x1234_5000L, 0, 1, events, zeroTimeout())).isEqualTo(-EINVAL);
    }

    @Test
    void shouldRejectASecondIoDestroyWithEinval() {
        MemorySegment ctxp = arena.allocate(ValueLayout.JAVA_LONG);
        assertThat(Syscalls.io_setup(errno, 4, ctxp)).isZero();
        long ctx = ctxp.get(ValueLayout.JAVA_LONG, 0);
        assertThat(Syscalls.io_destroy(errno, ctx)).isZero();
        assertThat(Syscalls.io_destroy(errno, ctx)).isEqualTo(-EINVAL);
    }

    @Test
    void shouldAddEventfdWritesToTheCounterAndResetItOnRead() {
        long fd = Syscalls.eventfd2(errno, 3, EFD_NONBLOCK | EFD_CLOEXEC);
        assertThat(fd).isNotNegative();
        fds.add((int) fd);
        MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);

        value.set(ValueLayout.JAVA_LONG, 0, 2);
        assertThat(Syscalls.write(errno, (int) fd, value, 8)).isEqualTo(8);
        assertThat(Syscalls.read(errno, (int) fd, value, 8)).isEqualTo(8);
        assertThat(value.get(ValueLayout.JAVA_LONG, 0)).as("initial 3 + 2").isEqualTo(5);
        assertThat(Syscalls.read(errno, (int) fd, value, 8)).as("counter is 0 again").isEqualTo(-EAGAIN);

        value.set(ValueLayout.JAVA_LONG, 0, -1L); // 2^64 - 1 is the one value an eventfd refuses
        assertThat(Syscalls.write(errno, (int) fd, value, 8)).isEqualTo(-EINVAL);
        assertThat(Syscalls.read(errno, (int) fd, value, 4)).as("reads are whole counters").isEqualTo(-EINVAL);
    }

    @Test
    void shouldHoldTheExtraBufferArgumentsSessionWhilePreadv2Blocks() throws Exception {
        // A blocking eventfd: preadv2 (offset -1, the file position) waits in the kernel until it is written.
        int fd = (int) Syscalls.eventfd2(errno, 0, EFD_CLOEXEC);
        assertThat(fd).isPositive();
        Arena callers = Arena.ofShared();
        MemorySegment value = callers.allocate(8, 8);
        MemorySegment iov = Arena.ofAuto().allocate(16, 8); // read by the reader thread
        iov.set(ValueLayout.ADDRESS, 0, value);
        iov.set(ValueLayout.JAVA_LONG, 8, 8);
        long[] result = new long[1];
        Thread reader = Thread.ofPlatform().start(() -> {
            try (Arena scratch = Arena.ofConfined()) {
                result[0] = Syscalls.preadv2Holding(Syscalls.errnoCapture(scratch), fd, iov, 1, -1, 0, value);
            }
        });
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (reader.isAlive() && !isInNative(reader) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(reader.isAlive()).isTrue();
        Thread.sleep(50);
        // The buffer is an argument of the running downcall: its arena cannot be closed under the kernel.
        org.assertj.core.api.Assertions.assertThatThrownBy(callers::close)
                .isInstanceOf(IllegalStateException.class);
        MemorySegment one = arena.allocate(8, 8);
        one.set(ValueLayout.JAVA_LONG, 0, 1);
        try {
            assertThat(callers.scope().isAlive()).isTrue();
        } finally {
            assertThat(Syscalls.write(errno, fd, one, 8)).isEqualTo(8); // unblocks the reader whatever happened
        }
        reader.join(10_000);
        assertThat(result[0]).isEqualTo(8);
        assertThat(value.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(1);
        callers.close();
        Syscalls.close(errno, fd);
    }

    private static boolean isInNative(Thread thread) {
        for (StackTraceElement frame : thread.getStackTrace()) {
            if (frame.getMethodName().equals("preadv2Holding")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void shouldReportTheDirectIoAlignmentOfAFileOnTheBuildDiskThroughStatx() throws IOException {
        Path file = TestData.writeFile(dir.resolve("aligned"), 4096, SEED);
        MemorySegment buf = statx.allocate(arena);
        int mask = aio_abi_h.STATX_DIOALIGN();
        assertThat(Syscalls.statx(errno, AT_FDCWD, arena.allocateFrom(file.toString()), 0, mask, buf)).isZero();

        // Linux 6.1+ answers STATX_DIOALIGN for ext4, xfs and block devices; other filesystems may not.
        assumeTrue((statx.stx_mask(buf) & mask) == mask, "statx gives no STATX_DIOALIGN for " + file + " on "
                + MountTable.filesystemType(file) + ", Linux " + System.getProperty("os.version"));
        long memory = Integer.toUnsignedLong(statx.stx_dio_mem_align(buf));
        long offset = Integer.toUnsignedLong(statx.stx_dio_offset_align(buf));
        assertThat(memory).isPositive();
        assertThat(Long.bitCount(memory)).as("memory alignment %d is a power of two", memory).isEqualTo(1);
        assertThat(offset).isPositive();
        assertThat(Long.bitCount(offset)).as("offset alignment %d is a power of two", offset).isEqualTo(1);
        try (AioFile aioFile = AioFile.open(file)) {
            assertThat(aioFile.alignment())
                    .isEqualTo(new DirectAlignment(memory, offset, DirectAlignment.Source.STATX));
        }
    }

    @Test
    void shouldNameErrnoValuesAndDescribeThem() {
        assertThat(Syscalls.errnoName(11)).isEqualTo("EAGAIN");
        assertThat(Syscalls.errnoName(22)).isEqualTo("EINVAL");
        assertThat(Syscalls.strerror(11)).isNotBlank();
        assertThat(Syscalls.strerror(22)).isNotBlank().isNotEqualTo(Syscalls.strerror(11));
        assertThat(Syscalls.errnoName(4095)).as("a number libc has no name for").isEqualTo("errno 4095");
    }
}
