package dev.panaio;

import dev.panaio.internal.gen.aio_abi.__kernel_timespec;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.io_event;
import dev.panaio.internal.gen.aio_abi.iocb;
import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.ring.CompletionRing;
import dev.panaio.internal.context.RequestChecks;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.NativeAccess;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One kernel AIO context: prepare requests, submit them in one
 * {@code io_submit}, and reap their completions straight from the ring the
 * kernel maps into the process.
 * {@snippet :
 * try (AioContext aio = AioContext.open(64);
 *      AioFile file = AioFile.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
 *      Arena arena = Arena.ofConfined()) {
 *     MemorySegment buffers = arena.allocate(16 * 4096, 4096);
 *     for (int i = 0; i < 16; i++) {
 *         aio.prepareRead(file, buffers.asSlice(i * 4096L, 4096), i * 4096L, i); // tag = i
 *     }
 *     aio.submit();                                   // one io_submit for all 16
 *     int done = 0;
 *     while (done < 16) {
 *         done += aio.await(1, 1, TimeUnit.SECONDS, (tag, result) -> {
 *             if (result < 0) System.err.println("read " + tag + " failed: errno " + -result);
 *         });
 *     }
 * }
 * }
 *
 * <h2>Requests</h2>
 * A context has {@link #capacity()} request slots, the capacity asked for.
 * Each prepared request takes a slot until its completion is delivered, so
 * the kernel never runs out of room for what panaio admits. Preconditions are
 * checked in Java when a request is prepared, before the kernel sees it:
 * bounds, native memory, read-only destinations, file access mode, and the
 * alignment of direct I/O. Every request is tagged with a {@code long} that
 * comes back with its completion; tags need not be unique.
 *
 * <h2>Submission</h2>
 * {@link #submit()} hands every prepared request to the kernel, in prepare
 * order, in one io_submit. Should the kernel still accept only part of the
 * batch, it waits for completions (queued for the next {@link #reap} or
 * {@link #await}) and submits the rest. When the kernel
 * rejects a request, {@link SubmitException} names it; the requests before
 * it are in flight, and the ones after it are handed back, never dropped.
 *
 * <h2>Completions</h2>
 * {@link #reap} takes whatever completions are in the ring without a system
 * call; {@link #await} waits in {@code io_getevents} for a minimum number,
 * with a timeout. Each completed request is delivered exactly once, to a
 * {@link CompletionConsumer}, without allocation. If the ring's header is not
 * the layout panaio knows, every reap goes through io_getevents instead
 * ({@link #reapsFromRing()}).
 *
 * <h2>Threads</h2>
 * The kernel allows one reaper per ring, and requests share slots, so a
 * context is used by one thread at a time, like a selector: prepare, submit,
 * reap and await must not run concurrently, and an attempt throws
 * {@link IllegalStateException}. Handing the context from thread to thread is
 * fine. A completion handler may prepare and submit on its own context.
 * {@link #close()} may be called from any thread at any time.
 *
 * <h2>Closing</h2>
 * {@link #close()} stops new calls, waits in {@code io_destroy} until the
 * kernel has finished every request in flight (so no buffer is written after
 * it returns), then releases native memory. Completions not yet reaped are
 * discarded by the kernel; requests prepared but not submitted are dropped.
 * Call {@link #await} until {@link #inFlight()} is 0 first to see every
 * completion. Using a closed context throws {@link IllegalStateException}.
 *
 * <h2>Buffers</h2>
 * The kernel writes into a read's buffer until the completion is reaped. The
 * context keeps each buffer reachable until then, which protects memory the
 * garbage collector manages (direct {@code ByteBuffer}s, {@code Arena.ofAuto()}
 * segments). Memory of an arena you close yourself must stay open until the
 * request's completion has been reaped or the context is closed.
 */
public final class AioContext implements AutoCloseable {
    /**
     * The generated ABI, in a holder: its initialisation calls restricted
     * methods, which must not happen before {@link NativeAccess#ensureEnabled()}
     * has had its say in {@link #open(int)}.
     */
    private static final class Abi {
        static final long IOCB_SIZE = iocb.sizeof();
        static final long EVENT_SIZE = io_event.sizeof();
        static final long IOVEC_SIZE = iovec.sizeof();
        static final int UIO_MAXIOV = aio_abi_h.UIO_MAXIOV();
        static final short CMD_PREAD = (short) aio_abi_h.IOCB_CMD_PREAD();
        static final short CMD_PWRITE = (short) aio_abi_h.IOCB_CMD_PWRITE();
        static final short CMD_FSYNC = (short) aio_abi_h.IOCB_CMD_FSYNC();
        static final short CMD_FDSYNC = (short) aio_abi_h.IOCB_CMD_FDSYNC();
        static final short CMD_POLL = (short) aio_abi_h.IOCB_CMD_POLL();
        static final short CMD_PREADV = (short) aio_abi_h.IOCB_CMD_PREADV();
        static final short CMD_PWRITEV = (short) aio_abi_h.IOCB_CMD_PWRITEV();
        static final int FLAG_RESFD = aio_abi_h.IOCB_FLAG_RESFD();
        static final int FLAG_IOPRIO = aio_abi_h.IOCB_FLAG_IOPRIO();
    }

    /** Largest capacity accepted: far above any fs.aio-max-nr, low enough that slot arrays stay small. */
    public static final int MAX_CAPACITY = 1 << 20;

    /** When io_submit says EAGAIN with nothing in flight, how many times to back off before giving up. */
    private static final int EAGAIN_RETRIES = 100;
    private static final long EAGAIN_BACKOFF_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

    /** How long submit() waits for a completion when the kernel has no room, before trying again. */
    private static final long ROOM_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** The io_event.data of the context's own wake-up poll (see close()); no request slot has it. */
    private static final long WAKE_DATA = -1L;

    /**
     * 1 while a thread is inside prepare/submit/reap/await. Taken with a CAS
     * (which also detects a second thread), given back with a release store.
     */
    private final AtomicInteger busy = new AtomicInteger();
    /**
     * Set once by close(). Together with {@link #busy} it forms a Dekker pair:
     * enter() takes busy, then reads closing; close() sets closing, then
     * reads busy. Both are sequentially consistent, so either the owner sees
     * the close and backs out, or close() sees the owner and waits for it.
     */
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

    private final long ctx;
    /** Request slots: the capacity asked for, which the kernel guarantees (it makes a ring twice as large). */
    private final int slots;
    private final int ringSize;
    /** Signalled by close() to complete the context's own poll, which wakes a thread in io_getevents. */
    private final EventFd wakeup;
    private final Arena arena;
    /** Owns only the view of the kernel's ring mapping; closed before io_destroy unmaps it. */
    private final Arena ringArena;
    private final CompletionRing ring;

    private final MemorySegment iocbs;
    private final MemorySegment iocbPointers;
    private final MemorySegment events;
    private final MemorySegment timeout;
    private final MemorySegment errno;

    private final int[] freeSlots;
    private int freeCount;
    private final int[] preparedSlots;
    private int preparedCount;
    private int inFlight;
    private final long[] tags;
    /** Per slot: whether it is in the kernel, so that a second completion for it is caught, not obeyed. */
    private final boolean[] submitted;
    /** Per slot: the buffer(s) the kernel may touch, kept reachable until the completion is reaped. */
    private final Object[] buffers;
    /** Per slot: descriptors the prepared iocb names, held until io_submit has taken them. */
    private final FileDescriptorHandle[] files;
    /**
     * The file the last batch named, with one use held by the context across
     * requests, so that a stream of requests on one file costs no atomic
     * operation each. Changed or dropped only when no request is prepared.
     */
    private FileDescriptorHandle pinned;
    /** The file of the most recent prepare: the one to pin after the next submit. */
    private FileDescriptorHandle lastFile;
    private final FileDescriptorHandle[] notifyFds;
    private final MemorySegment[] iovecs;

    /** Completions reaped by submit() while making room, delivered first by the next reap/await. */
    private long[] queuedTags;
    private long[] queuedResults;
    private int queuedHead;
    private int queuedCount;

    private Thread owner;
    private int depth;
    private boolean teardownDeferred;
    private final CountDownLatch closed = new CountDownLatch(1);

    private AioContext(long ctx, int slots, int ringSize, Arena arena, Arena ringArena, CompletionRing ring,
                       EventFd wakeup) {
        this.ctx = ctx;
        this.slots = slots;
        this.ringSize = ringSize;
        this.arena = arena;
        this.ringArena = ringArena;
        this.ring = ring;
        this.wakeup = wakeup;
        // One more iocb and event than there are slots: the wake-up poll's.
        this.iocbs = arena.allocate(Abi.IOCB_SIZE * (slots + 1), 64);
        this.iocbPointers = arena.allocate(ValueLayout.ADDRESS, slots);
        this.events = arena.allocate(Abi.EVENT_SIZE * (slots + 1), 8);
        this.timeout = __kernel_timespec.allocate(arena);
        this.errno = Syscalls.errnoCapture(arena);
        this.freeSlots = new int[slots];
        for (int i = 0; i < slots; i++) {
            freeSlots[i] = slots - 1 - i;
        }
        this.freeCount = slots;
        this.preparedSlots = new int[slots];
        this.tags = new long[slots];
        this.submitted = new boolean[slots];
        this.buffers = new Object[slots];
        this.files = new FileDescriptorHandle[slots];
        this.notifyFds = new FileDescriptorHandle[slots];
        this.iovecs = new MemorySegment[slots];
        this.queuedTags = new long[slots];
        this.queuedResults = new long[slots];
    }

    /**
     * Opens a context that holds {@code capacity} requests at once.
     *
     * <p>The kernel charges {@code capacity + 1} (one for the context's own
     * wake-up poll) to the system-wide {@code fs.aio-nr} until the context is
     * closed, and maps a ring of more slots than that ({@link #ringSize()}):
     * it needs the slack, because slots it caches per CPU are not always free
     * for another CPU. So {@link #capacity()} is what panaio admits: the
     * capacity asked for, which the kernel always accepts.
     *
     * @param capacity requests the context must hold at once, 1 to {@link #MAX_CAPACITY}
     * @throws IllegalArgumentException if capacity is out of range
     * @throws AioLimitException        if fs.aio-max-nr would be exceeded; the message says by how much
     * @throws AioException             if io_setup fails otherwise
     * @throws IllegalCallerException   if native access is not enabled for panaio, naming the flag
     */
    public static AioContext open(int capacity) throws IOException {
        return open(capacity, true);
    }

    /**
     * As {@link #open(int)}; with {@code reapFromRing} false, completions are
     * always read with io_getevents, as for a ring panaio does not recognise.
     * Tests use it to compare the two paths.
     */
    static AioContext open(int capacity, boolean reapFromRing) throws IOException {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "capacity must be between 1 and %d, not %d", MAX_CAPACITY, capacity));
        }
        NativeAccess.ensureEnabled();
        int nr = capacity + 1;
        long ctx;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment ctxp = scratch.allocate(ValueLayout.JAVA_LONG); // zeroed: io_setup requires *ctxp == 0
            long ret = Syscalls.io_setup(Syscalls.errnoCapture(scratch), nr, ctxp);
            if (ret < 0) {
                throw ErrnoExceptions.ioSetup(nr, (int) -ret);
            }
            ctx = ctxp.get(ValueLayout.JAVA_LONG, 0);
        }
        Arena arena = Arena.ofShared();
        Arena ringArena = Arena.ofShared();
        EventFd wakeup = null;
        try {
            wakeup = EventFd.open();
            CompletionRing ring = reapFromRing ? CompletionRing.map(ctx, ringArena) : null;
            int ringSize = ring != null ? ring.slots() : CompletionRing.slotsOf(ctx);
            AioContext context = new AioContext(ctx, capacity, ringSize, arena, ringArena, ring, wakeup);
            context.armWakeup();
            return context;
        } catch (IOException | RuntimeException | Error e) {
            try (Arena scratch = Arena.ofConfined()) {
                Syscalls.io_destroy(Syscalls.errnoCapture(scratch), ctx);
            }
            ringArena.close();
            arena.close();
            if (wakeup != null) {
                wakeup.close();
            }
            throw e;
        }
    }

    /**
     * Submits the context's own poll on its wake-up eventfd. It completes only
     * when close() signals the eventfd, and so wakes a thread blocked in
     * io_getevents on this context before io_destroy runs: the waiter can then
     * never block on a later context that reuses this one's id.
     */
    private void armWakeup() throws IOException {
        MemorySegment cb = iocbs.asSlice(slots * Abi.IOCB_SIZE, Abi.IOCB_SIZE);
        cb.fill((byte) 0);
        iocb.aio_data(cb, WAKE_DATA);
        iocb.aio_lio_opcode(cb, Abi.CMD_POLL);
        iocb.aio_fildes(cb, wakeup.handle.fd());
        iocb.aio_buf(cb, 1); // POLLIN
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment pointer = scratch.allocateFrom(ValueLayout.JAVA_LONG, cb.address());
            long ret;
            do {
                ret = Syscalls.io_submit(errno, ctx, 1, pointer);
            } while (ret == -ErrnoExceptions.EINTR);
            if (ret != 1) {
                throw ErrnoExceptions.of("io_submit", "the context's wake-up poll", ret < 0 ? (int) -ret
                        : ErrnoExceptions.EAGAIN);
            }
        }
    }

    /**
     * Requests the context holds at once, counting prepared ones, those in
     * flight and completions not yet delivered: the capacity passed to
     * {@link #open(int)}.
     */
    public int capacity() {
        return slots;
    }

    /**
     * Event slots of the ring the kernel mapped, read from the ring itself:
     * more than the capacity asked for (1 to 32 give 127 on 4 KiB pages).
     */
    public int ringSize() {
        return ringSize;
    }

    /** Whether completions are reaped from the ring in user space; false means every reap is io_getevents. */
    public boolean reapsFromRing() {
        return ring != null;
    }

    /** Requests prepared and not yet submitted. */
    public int prepared() {
        return preparedCount;
    }

    /** Requests submitted whose completions have not yet been delivered. */
    public int inFlight() {
        return inFlight + queuedCount;
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closing.get();
    }

    // ---------------------------------------------------------------- prepare

    /** Prepares a read of {@code dst.byteSize()} bytes at {@code position}. See {@link #prepareRead(AioFile, MemorySegment, long, long, RequestOptions)}. */
    public void prepareRead(AioFile file, MemorySegment dst, long position, long tag) {
        prepareRead(file, dst, position, tag, RequestOptions.NONE);
    }

    /**
     * Prepares a read of {@code dst.byteSize()} bytes of {@code file} at
     * {@code position} into {@code dst}. The result is the number of bytes
     * read: fewer at end of file, 0 past it.
     *
     * @throws IllegalArgumentException if dst is not native memory, is read-only, or position is negative or
     *                                  overflows with the length
     * @throws MisalignedIoException    if the file is direct and dst's address, position or length breaks its
     *                                  {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareRead(AioFile file, MemorySegment dst, long position, long tag, RequestOptions options) {
        RequestChecks.checkSegment(dst, true);
        prepareTransfer(Abi.CMD_PREAD, file, dst, dst.address(), dst.byteSize(), position, tag, options);
    }

    /** Prepares a read into the remaining bytes of a direct buffer; its position and limit are not changed. */
    public void prepareRead(AioFile file, ByteBuffer dst, long position, long tag) {
        prepareRead(file, dst, position, tag, RequestOptions.NONE);
    }

    /** As {@link #prepareRead(AioFile, ByteBuffer, long, long)}, with options. */
    public void prepareRead(AioFile file, ByteBuffer dst, long position, long tag, RequestOptions options) {
        MemorySegment segment = RequestChecks.segmentOf(dst, true);
        prepareTransfer(Abi.CMD_PREAD, file, dst, segment.address(), segment.byteSize(), position, tag, options);
    }

    /** Prepares a write of all of {@code src} at {@code position}. */
    public void prepareWrite(AioFile file, MemorySegment src, long position, long tag) {
        prepareWrite(file, src, position, tag, RequestOptions.NONE);
    }

    /**
     * Prepares a write of all of {@code src} to {@code file} at
     * {@code position}. The result is the number of bytes written.
     *
     * @throws IllegalArgumentException if src is not native memory or position is negative or overflows
     * @throws MisalignedIoException    if the file is direct and src's address, position or length breaks its
     *                                  alignment
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareWrite(AioFile file, MemorySegment src, long position, long tag, RequestOptions options) {
        RequestChecks.checkSegment(src, false);
        prepareTransfer(Abi.CMD_PWRITE, file, src, src.address(), src.byteSize(), position, tag, options);
    }

    /** Prepares a write of the remaining bytes of a direct buffer; its position and limit are not changed. */
    public void prepareWrite(AioFile file, ByteBuffer src, long position, long tag) {
        prepareWrite(file, src, position, tag, RequestOptions.NONE);
    }

    /** As {@link #prepareWrite(AioFile, ByteBuffer, long, long)}, with options. */
    public void prepareWrite(AioFile file, ByteBuffer src, long position, long tag, RequestOptions options) {
        MemorySegment segment = RequestChecks.segmentOf(src, false);
        prepareTransfer(Abi.CMD_PWRITE, file, src, segment.address(), segment.byteSize(), position, tag, options);
    }

    /**
     * Prepares a vectored read ({@code IOCB_CMD_PREADV}): file bytes from
     * {@code position} fill {@code dsts} in order. At most 1024 buffers.
     */
    public void prepareReadVectored(AioFile file, MemorySegment[] dsts, long position, long tag,
                                    RequestOptions options) {
        prepareVectored(Abi.CMD_PREADV, file, dsts, position, tag, options);
    }

    /** Prepares a vectored write ({@code IOCB_CMD_PWRITEV}) of {@code srcs}, in order, from {@code position}. */
    public void prepareWriteVectored(AioFile file, MemorySegment[] srcs, long position, long tag,
                                     RequestOptions options) {
        prepareVectored(Abi.CMD_PWRITEV, file, srcs, position, tag, options);
    }

    /**
     * Prepares an fsync ({@code IOCB_CMD_FSYNC}): file data and metadata
     * reach stable storage. It runs on a kernel workqueue, so the submitter
     * does not wait for it. The result is 0 or {@code -errno}.
     */
    public void prepareFsync(AioFile file, long tag) {
        prepareSync(Abi.CMD_FSYNC, file, tag, RequestOptions.NONE);
    }

    /** As {@link #prepareFsync(AioFile, long)}; only priority and notify options apply, rw flags are rejected. */
    public void prepareFsync(AioFile file, long tag, RequestOptions options) {
        prepareSync(Abi.CMD_FSYNC, file, tag, options);
    }

    /** Prepares an fdatasync ({@code IOCB_CMD_FDSYNC}): like fsync, skipping metadata not needed to read the data. */
    public void prepareFdatasync(AioFile file, long tag) {
        prepareSync(Abi.CMD_FDSYNC, file, tag, RequestOptions.NONE);
    }

    /** As {@link #prepareFdatasync(AioFile, long)}, with priority and notify options. */
    public void prepareFdatasync(AioFile file, long tag, RequestOptions options) {
        prepareSync(Abi.CMD_FDSYNC, file, tag, options);
    }

    /**
     * Prepares a one-shot poll ({@code IOCB_CMD_POLL}) for {@code events}
     * (the {@code POLLIN}, {@code POLLOUT} ... bits of poll(2)) on
     * {@code target}. It completes, with the ready events as its result, when
     * one of them is ready; at once if one already is. Unlike file I/O, a
     * pending poll can be {@linkplain #cancel(long) cancelled}.
     *
     * @throws IllegalArgumentException if events is 0 or does not fit in 16 bits
     */
    public void preparePoll(Pollable target, int events, long tag) {
        preparePoll(target, events, tag, RequestOptions.NONE);
    }

    /** As {@link #preparePoll(Pollable, int, long)}; only priority and notify options apply, rw flags are rejected. */
    public void preparePoll(Pollable target, int events, long tag, RequestOptions options) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(options, "options");
        RequestChecks.checkPollEvents(events);
        if (options.rwFlags() != 0) {
            throw new IllegalArgumentException("poll takes no rw flags: " + options);
        }
        FileDescriptorHandle handle = switch (target) {
            case AioFile file -> file.handle;
            case EventFd eventFd -> eventFd.handle;
        };
        int slot = beginPrepare(handle);
        try {
            fillIocb(slot, Abi.CMD_POLL, handle.fd(), tag, options, events, 0, 0);
            finishPrepare(slot, null);
        } catch (RuntimeException | Error e) {
            abortPrepare(slot);
            throw e;
        } finally {
            exit();
        }
    }

    private void prepareTransfer(short opcode, AioFile file, Object keepAlive, long address, long length,
                                 long position, long tag, RequestOptions options) {
        RequestChecks.checkTransfer(opcode == Abi.CMD_PREAD || opcode == Abi.CMD_PREADV, file, address, length, position, options);
        int slot = beginPrepare(file.handle);
        try {
            fillIocb(slot, opcode, file.handle.fd(), tag, options, address, length, position);
            finishPrepare(slot, keepAlive);
        } catch (RuntimeException | Error e) {
            abortPrepare(slot);
            throw e;
        } finally {
            exit();
        }
    }

    private void prepareVectored(short opcode, AioFile file, MemorySegment[] buffers, long position, long tag,
                                 RequestOptions options) {
        Objects.requireNonNull(buffers, "buffers");
        if (buffers.length == 0 || buffers.length > Abi.UIO_MAXIOV) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "a vectored request takes 1 to %d buffers (UIO_MAXIOV), not %d", Abi.UIO_MAXIOV, buffers.length));
        }
        boolean read = opcode == Abi.CMD_PREADV;
        long total = 0;
        for (MemorySegment buffer : buffers) {
            RequestChecks.checkSegment(buffer, read);
            RequestChecks.checkDirectMemory(file, buffer.address(), "buffer address");
            RequestChecks.checkDirectOffset(file, buffer.byteSize(), "buffer length");
            total += buffer.byteSize();
            if (total < 0) {
                throw new IllegalArgumentException("total length of the buffers overflows a long");
            }
        }
        RequestChecks.checkTransfer(read, file, 0, total, position, options);
        MemorySegment[] keepAlive = buffers.clone();
        int slot = beginPrepare(file.handle);
        try {
            MemorySegment vec = iovecs[slot];
            if (vec == null || vec.byteSize() < buffers.length * Abi.IOVEC_SIZE) {
                vec = iovecs[slot] = arena.allocate(Abi.IOVEC_SIZE * Math.max(buffers.length, 8), 8);
            }
            for (int i = 0; i < keepAlive.length; i++) {
                MemorySegment v = iovec.asSlice(vec, i);
                iovec.iov_base(v, keepAlive[i]);
                iovec.iov_len(v, keepAlive[i].byteSize());
            }
            fillIocb(slot, opcode, file.handle.fd(), tag, options, vec.address(), keepAlive.length, position);
            finishPrepare(slot, keepAlive);
        } catch (RuntimeException | Error e) {
            abortPrepare(slot);
            throw e;
        } finally {
            exit();
        }
    }

    private void prepareSync(short opcode, AioFile file, long tag, RequestOptions options) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        if (options.rwFlags() != 0) {
            // The kernel answers EINVAL: fsync iocbs must have buf, nbytes, offset and rw_flags all 0.
            throw new IllegalArgumentException("fsync and fdatasync take no rw flags: " + options);
        }
        int slot = beginPrepare(file.handle);
        try {
            fillIocb(slot, opcode, file.handle.fd(), tag, options, 0, 0, 0);
            finishPrepare(slot, null);
        } catch (RuntimeException | Error e) {
            abortPrepare(slot);
            throw e;
        } finally {
            exit();
        }
    }

    /** Enters, takes a use of the descriptor and a free slot; on return the caller must finish or abort, then exit. */
    private int beginPrepare(FileDescriptorHandle handle) {
        enter();
        if (freeCount == 0) {
            exit();
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "all %d request slots are in use (%d prepared, %d in flight): submit and reap first", slots,
                    preparedCount, inFlight + queuedCount));
        }
        boolean covered = handle == pinned && handle.isOpen();
        if (!covered) {
            try {
                handle.acquire();
            } catch (RuntimeException e) {
                exit();
                throw e;
            }
        }
        int slot = freeSlots[--freeCount];
        files[slot] = covered ? null : handle; // a pinned file needs no use of its own per request
        lastFile = handle;
        return slot;
    }

    /**
     * Moves the pin to the file just submitted to, or drops it when that file
     * was closed; only with nothing prepared, since prepared requests on the
     * pinned file rely on the pin to keep its descriptor number valid.
     */
    private void repin() {
        if (preparedCount != 0) {
            return;
        }
        FileDescriptorHandle want = lastFile != null && lastFile.isOpen() ? lastFile : null;
        if (want == pinned) {
            if (pinned != null && !pinned.isOpen()) {
                unpin();
            }
            return;
        }
        if (want != null) {
            try {
                want.acquire();
            } catch (IllegalStateException closedMeanwhile) {
                want = null;
            }
        }
        unpin();
        pinned = want;
    }

    private void unpin() {
        FileDescriptorHandle old = pinned;
        pinned = null;
        if (old != null) {
            old.release();
        }
    }

    /**
     * Writes every field of a slot's iocb in place. Each field is written at
     * its generated offset within the iocbs array rather than through a slice,
     * so that the hot path allocates nothing even before the JIT has proved a
     * slice does not escape.
     */
    private void fillIocb(int slot, short opcode, int fd, long tag, RequestOptions options, long buf, long nbytes,
                          long offset) {
        long base = slot * Abi.IOCB_SIZE;
        int flags = 0;
        short reqprio = 0;
        IoPriority priority = options.priority();
        if (priority != null) {
            flags |= Abi.FLAG_IOPRIO;
            reqprio = priority.value();
        }
        int resfd = 0;
        EventFd notify = options.notifyEventFd();
        if (notify != null) {
            flags |= Abi.FLAG_RESFD;
            resfd = notify.handle.acquire();
            notifyFds[slot] = notify.handle;
        }
        iocbs.set(iocb.aio_data$layout(), base + iocb.aio_data$offset(), slot);
        iocbs.set(iocb.aio_key$layout(), base + iocb.aio_key$offset(), 0);
        iocbs.set(iocb.aio_rw_flags$layout(), base + iocb.aio_rw_flags$offset(), options.rwFlags());
        iocbs.set(iocb.aio_lio_opcode$layout(), base + iocb.aio_lio_opcode$offset(), opcode);
        iocbs.set(iocb.aio_reqprio$layout(), base + iocb.aio_reqprio$offset(), reqprio);
        iocbs.set(iocb.aio_fildes$layout(), base + iocb.aio_fildes$offset(), fd);
        iocbs.set(iocb.aio_buf$layout(), base + iocb.aio_buf$offset(), buf);
        iocbs.set(iocb.aio_nbytes$layout(), base + iocb.aio_nbytes$offset(), nbytes);
        iocbs.set(iocb.aio_offset$layout(), base + iocb.aio_offset$offset(), offset);
        iocbs.set(iocb.aio_reserved2$layout(), base + iocb.aio_reserved2$offset(), 0L);
        iocbs.set(iocb.aio_flags$layout(), base + iocb.aio_flags$offset(), flags);
        iocbs.set(iocb.aio_resfd$layout(), base + iocb.aio_resfd$offset(), resfd);
        tags[slot] = tag;
    }

    private void finishPrepare(int slot, Object keepAlive) {
        buffers[slot] = keepAlive;
        iocbPointers.setAtIndex(ValueLayout.JAVA_LONG, preparedCount, iocbs.address() + slot * Abi.IOCB_SIZE);
        preparedSlots[preparedCount++] = slot;
    }

    private void abortPrepare(int slot) {
        releaseDescriptors(slot);
        buffers[slot] = null;
        freeSlots[freeCount++] = slot;
    }

    private void releaseDescriptors(int slot) {
        FileDescriptorHandle file = files[slot];
        if (file != null) {
            files[slot] = null;
            file.release();
        }
        FileDescriptorHandle notify = notifyFds[slot];
        if (notify != null) {
            notifyFds[slot] = null;
            notify.release();
        }
    }

    // ----------------------------------------------------------------- submit

    /**
     * Submits every prepared request, in prepare order, in one io_submit.
     *
     * <p>Should the kernel accept only part of the batch, or answer EAGAIN,
     * this method waits for completions (queued for the next {@link #reap} or
     * {@link #await}) and submits the rest; with nothing in flight it backs
     * off briefly and retries. Interrupted calls (EINTR) are retried.
     *
     * <p>io_submit may block: buffered I/O runs inside it, and even direct
     * I/O can wait for metadata or a full device queue.
     *
     * @return the number of requests submitted
     * @throws SubmitException       if the kernel rejected a request (or kept refusing room for it); it names
     *                               the request, those before it are in flight, those after it are handed back
     *                               unsubmitted
     * @throws IllegalStateException if the context is closed or used by another thread
     */
    public int submit() throws SubmitException {
        enter();
        try {
            return submitPrepared();
        } finally {
            repin();
            exit();
        }
    }

    private int submitPrepared() throws SubmitException {
        int total = preparedCount;
        int done = 0;
        int eagainRetries = 0;
        while (done < total) {
            if (isClosed()) {
                // Closed while this thread waited for room. The first `done` are in the kernel; the rest never
                // reached it and give their slots back now, so that teardown sees nothing prepared.
                for (int i = done; i < total; i++) {
                    abortPrepare(preparedSlots[i]);
                }
                preparedCount = 0;
                throw new IllegalStateException(String.format(Locale.ROOT, "AioContext closed during submit: %d of "
                        + "%d requests were submitted, the rest were dropped", done, total));
            }
            // The whole array in the usual case: no slice for the downcall to keep.
            MemorySegment pending = done == 0 ? iocbPointers
                    : iocbPointers.asSlice(done * ValueLayout.ADDRESS.byteSize());
            long ret = Syscalls.io_submit(errno, ctx, total - done, pending);
            if (ret > 0) {
                markSubmitted(done, (int) ret);
                done += (int) ret;
                eagainRetries = 0;
            } else if (ret == -ErrnoExceptions.EINTR) {
                continue;
            } else if ((ret == -ErrnoExceptions.EAGAIN || ret == 0) && eagainRetries++ < EAGAIN_RETRIES) {
                // No room in the kernel: let completions free some, never waiting without a limit.
                if (inFlight > 0) {
                    waitIntoQueue();
                } else {
                    LockSupport.parkNanos(EAGAIN_BACKOFF_NANOS);
                }
            } else {
                int errnoValue = ret == 0 ? ErrnoExceptions.EAGAIN : (int) -ret;
                throw rejectBatch(done, total, errnoValue, ret == -ErrnoExceptions.EAGAIN || ret == 0);
            }
        }
        preparedCount = 0;
        return total;
    }

    private void markSubmitted(int from, int count) {
        for (int i = from; i < from + count; i++) {
            int slot = preparedSlots[i];
            submitted[slot] = true;
            releaseDescriptors(slot);
        }
        inFlight += count;
    }

    /** The request at {@code failed} was rejected: free it and the rest, and say so precisely. */
    private SubmitException rejectBatch(int failed, int total, int errnoValue, boolean noRoom) {
        int failedSlot = preparedSlots[failed];
        long failedTag = tags[failedSlot];
        String request = describeRequest(failedSlot);
        long[] unsubmitted = new long[total - failed - 1];
        for (int i = failed; i < total; i++) {
            int slot = preparedSlots[i];
            if (i > failed) {
                unsubmitted[i - failed - 1] = tags[slot];
            }
            abortPrepare(slot);
        }
        preparedCount = 0;
        String reason = noRoom
                ? String.format(Locale.ROOT, "%s: the kernel kept refusing room for it (%d tries)",
                ErrnoExceptions.describe(errnoValue), EAGAIN_RETRIES)
                : ErrnoExceptions.describe(errnoValue);
        String message = String.format(Locale.ROOT,
                "io_submit rejected request %d of a batch of %d (tag %d, %s): %s. The %d before it are in flight; "
                        + "the %d after it were not submitted and are handed back",
                failed, total, failedTag, request, reason, failed, unsubmitted.length);
        return new SubmitException(message, errnoValue, failed, failedTag, unsubmitted);
    }

    private String describeRequest(int slot) {
        MemorySegment cb = iocbs.asSlice(slot * Abi.IOCB_SIZE, Abi.IOCB_SIZE);
        return String.format(Locale.ROOT, "%s fd=%d offset=%d nbytes=%d rw_flags=0x%x",
                opcodeName(iocb.aio_lio_opcode(cb)), iocb.aio_fildes(cb), iocb.aio_offset(cb),
                iocb.aio_nbytes(cb), iocb.aio_rw_flags(cb));
    }

    private static String opcodeName(short opcode) {
        if (opcode == Abi.CMD_PREAD) return "PREAD";
        if (opcode == Abi.CMD_PWRITE) return "PWRITE";
        if (opcode == Abi.CMD_FSYNC) return "FSYNC";
        if (opcode == Abi.CMD_FDSYNC) return "FDSYNC";
        if (opcode == Abi.CMD_POLL) return "POLL";
        if (opcode == Abi.CMD_PREADV) return "PREADV";
        if (opcode == Abi.CMD_PWRITEV) return "PWRITEV";
        return "opcode " + opcode;
    }

    /** Waits a little for completions, queueing them; used only to make room while submitting. */
    private void waitIntoQueue() {
        if (ring == null || reapRing(null, Integer.MAX_VALUE) == 0) {
            getEvents(1, slots, ROOM_WAIT_NANOS);
        }
    }

    // ------------------------------------------------------------------- reap

    /**
     * Delivers the completions available now, without waiting and, when
     * reaping from the ring, without a system call.
     *
     * @return the number delivered
     * @throws IllegalStateException if the context is closed or used by another thread
     */
    public int reap(CompletionConsumer consumer) {
        return reap(Integer.MAX_VALUE, consumer);
    }

    /** As {@link #reap(CompletionConsumer)}, delivering at most {@code max} completions. */
    public int reap(int max, CompletionConsumer consumer) {
        Objects.requireNonNull(consumer, "consumer");
        if (max < 1) {
            throw new IllegalArgumentException("max must be positive: " + max);
        }
        enter();
        try {
            if (pinned != null && !pinned.isOpen()) {
                repin(); // the pinned file was closed: let its descriptor go
            }
            int delivered = drainQueue(consumer, max);
            if (delivered < max) {
                if (ring != null) {
                    delivered += reapRing(consumer, max - delivered);
                } else if (getEvents(0, Math.min(max - delivered, slots), 0) > 0) {
                    delivered += drainQueue(consumer, max - delivered);
                }
            }
            return delivered;
        } finally {
            exit();
        }
    }

    /**
     * Delivers at least {@code min} completions, waiting in io_getevents up
     * to {@code timeout} for them; fewer only if the time runs out or the
     * context is closed meanwhile.
     *
     * @param min     1 to {@link #inFlight()}: waiting for more than are in flight would never end
     * @param timeout how long to wait at most; 0 does not wait
     * @return the number delivered, possibly more than min
     * @throws IllegalArgumentException if min is out of range or timeout is negative
     * @throws IllegalStateException    if the context is closed, before or during the wait with nothing
     *                                  delivered, or is used by another thread
     */
    public int await(int min, long timeout, TimeUnit unit, CompletionConsumer consumer) {
        Objects.requireNonNull(unit, "unit");
        if (timeout < 0) {
            // The kernel would take a negative timeout as "wait forever".
            throw new IllegalArgumentException("timeout must not be negative: " + timeout + " " + unit
                    + "; use await(min, consumer) to wait without a limit");
        }
        return awaitCompletions(min, unit.toNanos(timeout), consumer);
    }

    /** As {@link #await(int, long, TimeUnit, CompletionConsumer)}, waiting without a time limit. */
    public int await(int min, CompletionConsumer consumer) {
        return awaitCompletions(min, -1, consumer);
    }

    private int awaitCompletions(int min, long timeoutNanos, CompletionConsumer consumer) {
        Objects.requireNonNull(consumer, "consumer");
        enter();
        try {
            if (min < 1 || min > inFlight + queuedCount) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "min must be between 1 and the %d requests in flight, not %d", inFlight + queuedCount, min));
            }
            int delivered = drainQueue(consumer, Integer.MAX_VALUE);
            if (ring != null && delivered < min) {
                delivered += reapRing(consumer, Integer.MAX_VALUE);
            }
            long deadline = System.nanoTime() + Math.max(timeoutNanos, 0);
            while (delivered < min && !isClosed()) {
                long remaining = timeoutNanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime());
                // min_nr 1, not min - delivered: the wake-up poll that close() completes is one event, and the
                // kernel must return on it; this loop counts up to min itself.
                getEvents(1, slots, remaining);
                delivered += drainQueue(consumer, Integer.MAX_VALUE);
                if (remaining == 0) {
                    break;
                }
            }
            if (delivered == 0 && isClosed()) {
                throw closedException();
            }
            return delivered;
        } finally {
            exit();
        }
    }

    private int drainQueue(CompletionConsumer consumer, int max) {
        int delivered = 0;
        while (queuedCount > 0 && delivered < max) {
            long tag = queuedTags[queuedHead];
            long result = queuedResults[queuedHead];
            queuedHead = queuedHead + 1 == queuedTags.length ? 0 : queuedHead + 1;
            queuedCount--;
            delivered++;
            consumer.onCompletion(tag, result);
        }
        return delivered;
    }

    /**
     * Takes completions from the ring in user space (see AioRingDescriptor for
     * the protocol); with a null consumer they are queued. Head and tail are
     * read afresh for every event, because a handler may reap the same ring
     * (through submit) before it returns. Stops when the context is closing:
     * close() may be about to destroy the ring.
     */
    private int reapRing(CompletionConsumer consumer, int max) {
        int delivered = 0;
        while (delivered < max && !isClosed()) {
            int head = ring.head();
            if (head == ring.tailAcquire()) {
                break;
            }
            long data = ring.data(head);
            long result = ring.res(head);
            ring.releaseHead(ring.next(head));
            if (complete(data, result, consumer)) {
                delivered++;
            }
        }
        return delivered;
    }

    /**
     * io_getevents for at least {@code min} (0 polls) and at most {@code max}
     * events, waiting up to {@code timeoutNanos} (-1: no limit). The events
     * are queued, not delivered, so that neither a throwing handler nor a
     * nested call can lose or overwrite the ones after it. EINTR is retried
     * within the same deadline.
     *
     * @return the number of completions queued
     */
    private int getEvents(int min, int max, long timeoutNanos) {
        long deadline = System.nanoTime() + Math.max(timeoutNanos, 0);
        long ret;
        do {
            if (isClosed()) {
                // close() has signalled (or will signal) the wake-up poll; do not wait on a context it destroys.
                return 0;
            }
            MemorySegment timespec = MemorySegment.NULL;
            if (timeoutNanos >= 0) {
                long remaining = Math.max(0, deadline - System.nanoTime());
                __kernel_timespec.tv_sec(timeout, remaining / 1_000_000_000L);
                __kernel_timespec.tv_nsec(timeout, remaining % 1_000_000_000L);
                timespec = timeout;
            }
            ret = Syscalls.io_getevents(errno, ctx, min, max, events, timespec);
        } while (ret == -ErrnoExceptions.EINTR);
        if (ret < 0) {
            if (isClosed()) {
                return 0;
            }
            throw new IllegalStateException(ErrnoExceptions.message("io_getevents",
                    String.format(Locale.ROOT, "min_nr=%d, nr=%d", min, max), (int) -ret, "a bug in panaio"));
        }
        int queued = 0;
        for (int i = 0; i < ret; i++) {
            MemorySegment event = io_event.asSlice(events, i);
            if (complete(io_event.data(event), io_event.res(event), null)) {
                queued++;
            }
        }
        return queued;
    }

    /**
     * Frees the slot of a completed request, then hands its completion to the
     * consumer, or to the queue when the consumer is null.
     *
     * @return false for the context's own wake-up poll, which is not a request
     */
    private boolean complete(long data, long result, CompletionConsumer consumer) {
        if (data == WAKE_DATA) {
            return false;
        }
        if (data < 0 || data >= slots || !submitted[(int) data]) {
            throw new IllegalStateException("completion for request slot " + data + ", which is not in flight: "
                    + "the ring is corrupt, or something else reaps this context");
        }
        int slot = (int) data;
        long tag = tags[slot];
        submitted[slot] = false;
        buffers[slot] = null;
        freeSlots[freeCount++] = slot;
        inFlight--;
        if (consumer == null) {
            if (queuedCount == queuedTags.length) {
                growQueue();
            }
            int tail = queuedHead + queuedCount;
            tail = tail >= queuedTags.length ? tail - queuedTags.length : tail;
            queuedTags[tail] = tag;
            queuedResults[tail] = result;
            queuedCount++;
        } else {
            consumer.onCompletion(tag, result);
        }
        return true;
    }

    /** Only when submit() is called again and again without reaping: the queue outgrows its first size. */
    private void growQueue() {
        int length = queuedTags.length;
        long[] newTags = new long[length * 2];
        long[] newResults = new long[length * 2];
        for (int i = 0; i < queuedCount; i++) {
            int from = (queuedHead + i) % length;
            newTags[i] = queuedTags[from];
            newResults[i] = queuedResults[from];
        }
        queuedTags = newTags;
        queuedResults = newResults;
        queuedHead = 0;
    }

    // ----------------------------------------------------------------- cancel

    /**
     * Asks the kernel to cancel the in-flight request with {@code tag} (the
     * first one found, if tags repeat). Linux cancels only pending
     * {@linkplain #preparePoll polls}; file reads and writes in flight cannot
     * be cancelled and this returns false for them. A cancelled request still
     * completes, once, with result 0 or {@code -ECANCELED}.
     *
     * @return whether the kernel accepted the cancellation
     */
    public boolean cancel(long tag) {
        enter();
        try {
            for (int slot = 0; slot < slots; slot++) {
                if (submitted[slot] && tags[slot] == tag) {
                    MemorySegment cb = iocbs.asSlice(slot * Abi.IOCB_SIZE, Abi.IOCB_SIZE);
                    try (Arena scratch = Arena.ofConfined()) {
                        MemorySegment result = io_event.allocate(scratch);
                        long ret = Syscalls.io_cancel(errno, ctx, cb, result);
                        if (ret == 0) {
                            // Older kernels hand the completion back here instead of posting it to the ring.
                            complete(io_event.data(result), io_event.res(result), null);
                            return true;
                        }
                        if (ret == -ErrnoExceptions.EINPROGRESS) {
                            return true;
                        }
                        if (ret == -ErrnoExceptions.EINVAL || ret == -ErrnoExceptions.EAGAIN) {
                            return false; // not cancellable, or it completed meanwhile
                        }
                        throw new IllegalStateException(ErrnoExceptions.message("io_cancel", "tag " + tag,
                                (int) -ret, null));
                    }
                }
            }
            return false;
        } finally {
            exit();
        }
    }

    // ------------------------------------------------------------------ close

    /**
     * Closes the context: no new calls are accepted, a thread blocked in
     * {@link #await} is woken (it returns what it has, or throws
     * {@link IllegalStateException}), io_destroy waits for every request in
     * flight to finish, and native memory is released. Idempotent and
     * callable from any thread; it returns once the owner thread, if any, has
     * left its call. Called from a completion handler, the teardown finishes
     * when the handler's reap returns.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            if (owner != Thread.currentThread()) {
                awaitTeardown();
            }
            return;
        }
        if (owner == Thread.currentThread()) {
            teardownDeferred = true; // we are inside one of our own calls: exit() finishes the job
            return;
        }
        try {
            wakeup.write(1); // completes the wake-up poll: a thread in io_getevents returns
        } catch (IOException e) {
            // Cannot happen while the context holds the eventfd; the owner's waits are bounded anyway.
        }
        while (busy.get() != 0) {
            LockSupport.parkNanos(10_000);
        }
        teardown();
    }

    /** A second close() returns only once the first one's teardown is done. */
    private void awaitTeardown() {
        boolean interrupted = false;
        for (;;) {
            try {
                closed.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs when no thread is inside the context: ring view, kernel context, then memory. */
    private void teardown() {
        try {
            ringArena.close(); // the ring view dies before the mapping does
            try (Arena scratch = Arena.ofConfined()) {
                // Blocks until in-flight I/O is done; only then may the memory below be freed.
                Syscalls.io_destroy(Syscalls.errnoCapture(scratch), ctx);
            }
            for (int i = 0; i < preparedCount; i++) {
                abortPrepare(preparedSlots[i]);
            }
            preparedCount = 0;
            unpin();
            lastFile = null;
            Arrays.fill(buffers, null);
            arena.close();
            try {
                wakeup.close();
            } catch (IOException e) {
                // the descriptor is released either way
            }
        } finally {
            closed.countDown();
        }
    }

    // ----------------------------------------------------------- thread guard

    private void enter() {
        Thread current = Thread.currentThread();
        if (owner == current) {
            if (isClosed()) {
                throw closedException();
            }
            depth++;
            return;
        }
        if (!busy.compareAndSet(0, 1)) {
            if (isClosed()) {
                throw closedException();
            }
            throw new IllegalStateException("AioContext is in use by another thread: a context is used by one "
                    + "thread at a time (the kernel allows one reaper per ring)");
        }
        if (isClosed()) {
            busy.set(0);
            throw closedException();
        }
        owner = current;
        depth = 1;
    }

    private void exit() {
        if (--depth > 0) {
            return;
        }
        owner = null;
        boolean deferred = teardownDeferred;
        busy.setRelease(0);
        if (deferred) {
            teardown();
        }
    }

    private static IllegalStateException closedException() {
        return new IllegalStateException("AioContext is closed");
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "AioContext[capacity=%d, ring=%d, prepared=%d, inFlight=%d%s%s]", slots,
                ringSize, preparedCount, inFlight + queuedCount, ring != null ? ", user-space reaping"
                        : ", io_getevents", isClosed() ? ", closed" : "");
    }
}
