package dev.panaio.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * {@code ffm-loop}: the C loop (bench/c/nullread.c) written in Java with bare
 * FFM downcalls and no panaio: libc's {@code syscall} with errno captured, as
 * panaio makes it, iocbs written in place, completions taken from the ring
 * (tail loaded with acquire, head stored with release), io_getevents only
 * when the ring is empty. It keeps the harness's books exactly as the
 * {@code panaio} engine does (a latency per request, the time of each batch's
 * io_submit, both in HdrHistograms), so nullread splits panaio's cost per
 * request against the C loop in two: the JVM, the FFM downcall and the
 * harness (ffm-loop ÷ c-loop), and panaio's own work (panaio ÷ ffm-loop).
 *
 * <p>nullread only: it checks nothing a real file would need. x86_64 and
 * aarch64 system call numbers.
 */
final class FfmLoopEngine implements Engine {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemorySegment SYSCALL = LINKER.defaultLookup().find("syscall").orElseThrow();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL3 = LINKER.downcallHandle(SYSCALL,
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final MethodHandle SYSCALL5 = LINKER.downcallHandle(SYSCALL,
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final MethodHandle SYSCALL1 = LINKER.downcallHandle(SYSCALL,
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final MethodHandle SETUP = LINKER.downcallHandle(SYSCALL,
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private static final boolean AARCH64 = System.getProperty("os.arch").equals("aarch64");
    private static final long SYS_IO_SETUP = AARCH64 ? 0 : 206;
    private static final long SYS_IO_DESTROY = AARCH64 ? 1 : 207;
    private static final long SYS_IO_SUBMIT = AARCH64 ? 2 : 209;
    private static final long SYS_IO_GETEVENTS = AARCH64 ? 4 : 208;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;

    /** struct iocb (linux/aio_abi.h, little-endian): 64 bytes. */
    private static final long IOCB_SIZE = 64;
    private static final long AIO_DATA = 0;
    private static final long AIO_LIO_OPCODE = 16;
    private static final long AIO_BUF = 24;
    private static final long AIO_NBYTES = 32;
    private static final long AIO_OFFSET = 40;
    private static final short IOCB_CMD_PREAD = 0;
    /** struct io_event: 32 bytes, data at 0 and res at 16; the ring's events start after its 32-byte header. */
    private static final long EVENT_SIZE = 32;
    private static final long EVENT_RES = 16;
    private static final long RING_NR = 4;
    private static final long RING_HEAD = 8;
    private static final long RING_TAIL = 12;
    private static final long RING_MAGIC = 16;
    private static final long RING_INCOMPAT = 24;
    private static final long RING_HEADER_LENGTH = 28;
    private static final int AIO_RING_MAGIC = 0xa10a10a1;
    private static final VarHandle RING_INT = ValueLayout.JAVA_INT.varHandle();

    @Override
    public String name() {
        return "ffm-loop";
    }

    @Override
    public boolean isPeer() {
        return false;
    }

    @Override
    public boolean supports(Workload workload) {
        return workload == Workload.NULLREAD;
    }

    @Override
    public EngineResult run(RunSpec spec) throws EngineException, InterruptedException {
        return MeasuredWindow.runOneWorker(name(), "ffm-loop-bench", spec,
                (window, recorder, submitStalls) -> loop(spec, window, recorder, submitStalls));
    }

    private static void loop(RunSpec spec, MeasuredWindow window, LatencyRecorder recorder,
                             LatencyRecorder submitStalls) throws IOException {
        int qd = spec.qd();
        int bs = spec.bs();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(CAPTURE);
            int fd = (int) invoke(() -> (int) OPEN.invokeExact(errno, arena.allocateFrom(spec.file().toString()),
                    Libc.O_RDONLY | Libc.O_CLOEXEC));
            check(fd, errno, "open " + spec.file());
            MemorySegment ctxp = arena.allocate(ValueLayout.JAVA_LONG);
            check(invoke(() -> (long) SETUP.invokeExact(errno, SYS_IO_SETUP, (long) qd, ctxp)), errno, "io_setup");
            long ctx = ctxp.get(ValueLayout.JAVA_LONG, 0);
            try {
                MemorySegment header = MemorySegment.ofAddress(ctx).reinterpret(32);
                if (header.get(ValueLayout.JAVA_INT, RING_MAGIC) != AIO_RING_MAGIC
                        || header.get(ValueLayout.JAVA_INT, RING_INCOMPAT) != 0
                        || header.get(ValueLayout.JAVA_INT, RING_HEADER_LENGTH) != 32) {
                    throw new IOException("ffm-loop: the kernel's completion ring is not the layout it knows");
                }
                int nr = header.get(ValueLayout.JAVA_INT, RING_NR);
                MemorySegment ring = MemorySegment.ofAddress(ctx).reinterpret(32 + nr * EVENT_SIZE);
                Loop loop = new Loop(spec, window, recorder, submitStalls, arena, errno, ctx, ring, nr, fd, qd, bs);
                loop.run();
            } finally {
                long c = ctx;
                invoke(() -> (long) SYSCALL1.invokeExact(errno, SYS_IO_DESTROY, c));
                invoke(() -> (long) (int) CLOSE.invokeExact(fd));
            }
        }
    }

    /** The loop's state, as nullread.c keeps it: free slots, their iocbs and buffers, submit times. */
    private static final class Loop {
        private final RunSpec spec;
        private final MeasuredWindow window;
        private final LatencyRecorder recorder;
        private final LatencyRecorder submitStalls;
        private final MemorySegment errno;
        private final long ctx;
        private final MemorySegment ring;
        private final int nr;
        private final int fd;
        private final int bs;
        private final MemorySegment iocbs;
        private final MemorySegment batchPointers;
        private final MemorySegment events;
        private final long buffers;
        private final OffsetStream[] offsets;
        private final long[] submitted;
        private final int[] free;
        private int freeCount;
        private final int[] batchSlots;
        private long inFlight;

        Loop(RunSpec spec, MeasuredWindow window, LatencyRecorder recorder, LatencyRecorder submitStalls,
             Arena arena, MemorySegment errno, long ctx, MemorySegment ring, int nr, int fd, int qd, int bs) {
            this.spec = spec;
            this.window = window;
            this.recorder = recorder;
            this.submitStalls = submitStalls;
            this.errno = errno;
            this.ctx = ctx;
            this.ring = ring;
            this.nr = nr;
            this.fd = fd;
            this.bs = bs;
            this.iocbs = arena.allocate(IOCB_SIZE * qd, 64);
            this.batchPointers = arena.allocate(ValueLayout.ADDRESS, qd);
            this.events = arena.allocate(EVENT_SIZE * qd, 8);
            this.buffers = arena.allocate((long) bs * qd, spec.bufferAlignment()).address();
            this.offsets = new OffsetStream[qd];
            this.submitted = new long[qd];
            this.free = new int[qd];
            this.batchSlots = new int[qd];
            for (int i = 0; i < qd; i++) {
                offsets[i] = spec.offsets(i);
                free[i] = qd - 1 - i;
            }
            this.freeCount = qd;
        }

        /** The loop's steps are methods of their own, compiled as such rather than only within this loop. */
        void run() throws IOException {
            int maxBatch = spec.batch();
            while (true) {
                if (!window.stopped()) {
                    // Every free slot goes out now, in batches of at most spec.batch() per io_submit.
                    while (freeCount > 0) {
                        submitBatch(maxBatch);
                    }
                } else if (inFlight == 0) {
                    return;
                }
                if (reap() == 0 && inFlight > 0) {
                    awaitOne();
                }
            }
        }

        /** Prepares up to {@code maxBatch} free slots and submits them, timing the io_submit as panaio's loop does. */
        private void submitBatch(int maxBatch) throws IOException {
            int n = 0;
            long base = iocbs.address();
            while (freeCount > 0 && n < maxBatch) {
                int slot = free[--freeCount];
                long cb = slot * IOCB_SIZE;
                // All 64 bytes, as nullread.c's memset and stores leave them (little-endian: x86_64, aarch64).
                iocbs.set(ValueLayout.JAVA_LONG, cb + AIO_DATA, slot);
                iocbs.set(ValueLayout.JAVA_LONG, cb + 8, 0L); // aio_key, aio_rw_flags
                iocbs.set(ValueLayout.JAVA_LONG, cb + AIO_LIO_OPCODE,
                        (IOCB_CMD_PREAD & 0xffffL) | ((long) fd << 32)); // aio_lio_opcode, aio_reqprio, aio_fildes
                iocbs.set(ValueLayout.JAVA_LONG, cb + AIO_BUF, buffers + (long) slot * bs);
                iocbs.set(ValueLayout.JAVA_LONG, cb + AIO_NBYTES, bs);
                iocbs.set(ValueLayout.JAVA_LONG, cb + AIO_OFFSET, offsets[slot].next());
                iocbs.set(ValueLayout.JAVA_LONG, cb + 48, 0L); // aio_reserved2
                iocbs.set(ValueLayout.JAVA_LONG, cb + 56, 0L); // aio_flags, aio_resfd
                batchPointers.setAtIndex(ValueLayout.JAVA_LONG, n, base + cb);
                batchSlots[n++] = slot;
            }
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                submitted[batchSlots[i]] = start;
            }
            submit(n);
            submitStalls.record(System.nanoTime() - start);
        }

        private void submit(int n) throws IOException {
            int done = 0;
            while (done < n) { // the kernel may take only part of a batch
                MemorySegment from = done == 0 ? batchPointers
                        : batchPointers.asSlice(done * ValueLayout.ADDRESS.byteSize());
                long ret = ioSubmit(n - done, from);
                if (ret > 0) {
                    done += (int) ret;
                    inFlight += ret;
                } else if (ret == -EINTR) {
                    continue;
                } else if (ret == -EAGAIN && inFlight > 0) {
                    if (reap() == 0) {
                        awaitOne();
                    }
                } else {
                    throw new IOException("ffm-loop: io_submit: errno " + -ret);
                }
            }
        }

        private long ioSubmit(long n, MemorySegment pointers) {
            try {
                long ret = (long) SYSCALL3.invokeExact(errno, SYS_IO_SUBMIT, ctx, n, pointers);
                return ret == -1 ? -(int) ERRNO.get(errno, 0L) : ret;
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        private int reap() throws IOException {
            int head = (int) RING_INT.getAcquire(ring, RING_HEAD);
            int tail = (int) RING_INT.getAcquire(ring, RING_TAIL); // pairs with the kernel's barrier
            int n = 0;
            while (head != tail) {
                long event = 32 + head * EVENT_SIZE;
                long data = ring.get(ValueLayout.JAVA_LONG, event);
                long res = ring.get(ValueLayout.JAVA_LONG, event + EVENT_RES);
                head = head + 1 == nr ? 0 : head + 1;
                RING_INT.setRelease(ring, RING_HEAD, head); // the slot is the kernel's again
                complete(data, res);
                n++;
            }
            return n;
        }

        private void awaitOne() throws IOException {
            long ret;
            do {
                try {
                    ret = (long) SYSCALL5.invokeExact(errno, SYS_IO_GETEVENTS, ctx, 1L, inFlight, events,
                            MemorySegment.NULL);
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
            } while (ret == -1 && (int) ERRNO.get(errno, 0L) == EINTR);
            check(ret, errno, "io_getevents");
            for (int i = 0; i < ret; i++) {
                complete(events.get(ValueLayout.JAVA_LONG, i * EVENT_SIZE),
                        events.get(ValueLayout.JAVA_LONG, i * EVENT_SIZE + EVENT_RES));
            }
        }

        private void complete(long data, long res) throws IOException {
            long now = System.nanoTime();
            int slot = (int) data;
            if (res != bs) {
                throw new IOException(String.format(Locale.ROOT,
                        "ffm-loop: a request completed with %d instead of %d bytes", res, bs));
            }
            recorder.record(now - submitted[slot]);
            free[freeCount++] = slot;
            inFlight--;
        }
    }

    private interface Call {
        long call() throws Throwable;
    }

    private static long invoke(Call call) {
        try {
            return call.call();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static void check(long ret, MemorySegment errno, String what) throws IOException {
        if (ret < 0) {
            throw new IOException("ffm-loop: " + what + ": errno " + (int) ERRNO.get(errno, 0L));
        }
    }
}
