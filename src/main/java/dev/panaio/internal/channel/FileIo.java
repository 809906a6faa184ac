package dev.panaio.internal.channel;

import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;
import dev.panaio.MisalignedIoException;
import dev.panaio.RequestOptions;
import dev.panaio.RwFlag;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.context.RequestChecks;
import dev.panaio.internal.engine.DeliveryThreads;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.gen.aio_abi.statx;
import dev.panaio.internal.jfr.FileIoEvent;
import dev.panaio.internal.jfr.FileReadEvent;
import dev.panaio.internal.jfr.FileWriteEvent;
import dev.panaio.internal.memory.AlignedBufferPool;
import dev.panaio.internal.memory.ArenaUses;
import dev.panaio.internal.memory.BufferLifetime;
import dev.panaio.internal.stats.SharedCounters;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The positional reads and writes behind panaio's channels: where each one
 * goes, so that the calling thread never waits for a disk.
 *
 * <ul>
 *   <li><b>Direct files</b> ({@code O_DIRECT}): through the engine's kernel
 *       AIO. Positions and lengths must be aligned; a heap or misaligned
 *       buffer is copied through an aligned bounce buffer (one memcpy of the
 *       request's size), or rejected in strict mode.</li>
 *   <li><b>Buffered reads</b>: the calling thread first asks the page cache
 *       whether it holds every page of the range ({@code cachestat(2)}, which
 *       reads nothing), and only then reads them with
 *       {@code preadv2(RWF_NOWAIT)}. Once {@link #ASK_AFTER_MISS} reads of a
 *       file in a row have hit, its reads stop asking (one system call less
 *       each) until one misses: that miss alone may start a readahead on the
 *       caller's thread, and turns the questions back on. A miss goes to the engine's small
 *       blocking pool, whose threads start the disk reads of every miss
 *       waiting for them ({@link #UNSTARTED_READS}). The question comes first
 *       because a NOWAIT read that misses is not free: before it answers
 *       EAGAIN the kernel starts reading the missing pages (readahead), which
 *       submits block I/O from the caller's thread. Where cachestat is missing
 *       (before Linux 6.5) the NOWAIT attempt is made alone; where NOWAIT is
 *       (EOPNOTSUPP, tmpfs) every read goes to the pool. AIO would not help
 *       here: buffered AIO reads run synchronously inside io_submit.</li>
 *   <li><b>Buffered writes</b> complete in the page cache on the calling
 *       thread with {@code pwritev2}; writes to a file opened with DSYNC or
 *       SYNC wait for the disk, so they go to the blocking pool. A page cache
 *       write can stall too, for milliseconds, when the kernel throttles a
 *       process that dirties pages faster than the disk takes them, and ext4
 *       refuses RWF_NOWAIT for buffered writes (EOPNOTSUPP), so that cannot be
 *       asked beforehand: after a write that held the caller longer than
 *       {@link #THROTTLED_AFTER_NANOS}, the file's buffered writes go to the
 *       pool for {@link #THROTTLED_FOR_NANOS}, then inline again.</li>
 * </ul>
 * Each request's sink is finished exactly once: on the calling thread, an engine
 * thread or a pool thread.
 *
 * <p>Buffers: the kernel touches a caller's memory after the call that handed
 * it over returns only when panaio guards its lifetime ({@code AioArena}: a use
 * held by the {@link ChannelCompletion}; GC-managed memory: kept reachable);
 * anything else goes through a bounce buffer, copied back with a liveness
 * check. The inline page-cache calls pass the caller's segment as an argument
 * of the downcall, so FFM holds its session while the kernel copies.
 * Asynchronous requests refuse thread-confined buffers up front.
 *
 * <p>Thread-safe.
 */
public final class FileIo {
    private static final SharedSecrets.EngineAccess ENGINES = SharedSecrets.engineAccess();
    private static final SharedSecrets.OptionsAccess OPTIONS = SharedSecrets.optionsAccess();

    static {
        // Registered with JFR now, not in a channel's first read, which an interrupt must find in the read.
        FileReadEvent.enabled();
        FileWriteEvent.enabled();
    }

    private final AioEngine engine;
    private final AioFile file;
    private final FileDescriptorHandle handle;
    private final DirectAlignment alignment;
    private final boolean strict;
    private final boolean syncWrites;
    private volatile boolean nowaitUnsupported;
    /**
     * How many more buffered reads ask the page cache (cachestat) before their
     * inline attempt: set after a miss, counted down by reads the cache holds.
     * At 0 the file's reads hit, and the NOWAIT read goes alone, saving a
     * system call per read. A new file starts asking: its pages are unknown.
     * A hint: racing updates only move when it is asked.
     */
    private int askCacheFor = ASK_AFTER_MISS;
    /** The engine's blocking pool, looked up only when a task is handed to it: it is made on first use. */
    private final Executor pool;
    private final SharedCounters counters;

    private FileIo(AioEngine engine, AioFile file, boolean strict, boolean syncWrites) throws IOException {
        this.engine = engine;
        this.file = file;
        this.handle = SharedSecrets.fileAccess().handle(file);
        this.alignment = file.isDirect() ? file.alignment() : null;
        this.strict = strict;
        this.syncWrites = syncWrites;
        this.pool = task -> ENGINES.blockingPool(engine).execute(task);
        this.counters = ENGINES.sharedCounters(engine);
    }

    /** Opens the channel's own descriptor of {@code path} for AIO, with the channel's options. */
    public static FileIo open(Path path, ChannelOptions options, AioEngine engine) throws IOException {
        AioFile file = options.open(path);
        try {
            return new FileIo(engine, file, options.strict(), options.syncWrites());
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The channel's own AioFile. */
    public AioFile file() {
        return file;
    }

    /** Whether the calling thread is one of the engine's threads, where a blocking call would wait for itself. */
    public boolean onEngineThread() {
        return ENGINES.isEngineThread(engine);
    }

    /**
     * Per thread: native scratch for {@link #transfer} (one iovec, one errno
     * capture), so that a page-cache hit allocates no native memory. It is
     * GC-managed: a thread's is freed when the thread is gone.
     */
    private static final class Scratch {
        final MemorySegment iov;
        final MemorySegment errno;
        /** The iovec array of a vectored call, grown to the largest vector this thread has passed. */
        private MemorySegment iovs;

        Scratch() {
            Arena arena = Arena.ofAuto();
            iov = iovec.allocate(arena);
            errno = Syscalls.errnoCapture(arena);
        }

        MemorySegment iovecs(int count) {
            if (count == 1) {
                return iov;
            }
            if (iovs == null || iovs.byteSize() < count * iovec.sizeof()) {
                iovs = iovec.allocateArray(Math.max(count, 16), Arena.ofAuto());
            }
            return iovs;
        }
    }

    /**
     * Per thread: native scratch for {@link #pageCacheHolds}, a
     * {@code struct cachestat_range} (two u64) and a {@code struct cachestat}
     * (five u64), with its own errno capture.
     */
    private static final class CacheQuery {
        final MemorySegment range;
        final MemorySegment stat;
        final MemorySegment errno;

        CacheQuery() {
            Arena arena = Arena.ofAuto();
            range = arena.allocate(16, 8);
            stat = arena.allocate(40, 8);
            errno = Syscalls.errnoCapture(arena);
        }
    }

    private static final ThreadLocal<CacheQuery> CACHE_QUERY = ThreadLocal.withInitial(CacheQuery::new);
    private static final long PAGE_SIZE = Syscalls.getpagesize();
    /** Set once cachestat is found missing (ENOSYS, before Linux 6.5) or forbidden (EPERM, a seccomp filter). */
    private static volatile boolean cachestatUnavailable;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /**
     * Checks a caller's buffer before anything uses its address: a direct
     * buffer whose arena is closed would send the kernel into freed memory,
     * and an asynchronous request completes on another thread, which may not
     * touch memory confined to the caller's.
     */
    private static void checkBuffer(MemorySegment segment, ChannelCompletion op) {
        if (segment == null) {
            return; // heap memory
        }
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("the buffer's arena is already closed");
        }
        if (!op.settlesOnCaller()) {
            RequestChecks.checkNotConfined(segment);
        }
    }

    /** Starts a read of {@code dst}'s remaining bytes at {@code position}; its position advances by the count. */
    public void read(ByteBuffer dst, long position, ChannelCompletion op) {
        read(dst, position, RequestOptions.NONE, op);
    }

    /**
     * As {@link #read(ByteBuffer, long, ChannelCompletion)} with the caller's
     * rw flags and priority (never an eventfd): in the iocb for a direct file;
     * as preadv2's flags for a buffered one, where priority does not apply.
     */
    public void read(ByteBuffer dst, long position, RequestOptions options, ChannelCompletion op) {
        if (overflows(position, dst.remaining(), op)) {
            return;
        }
        MemorySegment direct = dst.isDirect() ? MemorySegment.ofBuffer(dst) : null;
        checkBuffer(direct, op);
        if (engine.isClosed()) {
            op.fail(new AsynchronousCloseException());
            return;
        }
        op.transfersWith(dst, true);
        op.event = FileReadEvent.beginIfEnabled(file.path(), alignment != null);
        int length = dst.remaining();
        if (length == 0) {
            op.request = Request.read(file, MemorySegment.NULL, position, "aio");
            op.finish(0);
        } else if (alignment != null) {
            startDirect(op, dst, direct, position, length, true, options);
        } else {
            readBuffered(op, dst, direct, position, length, options);
        }
    }

    /** Starts a write of {@code src}'s remaining bytes at {@code position}; its position advances by the count. */
    public void write(ByteBuffer src, long position, ChannelCompletion op) {
        write(src, position, RequestOptions.NONE, op);
    }

    /**
     * As {@link #write(ByteBuffer, long, ChannelCompletion)} with the caller's
     * rw flags and priority: in the iocb for a direct file; as pwritev2's
     * flags for a buffered one, where a DSYNC or SYNC write waits for the disk
     * and so runs on the pool.
     */
    public void write(ByteBuffer src, long position, RequestOptions options, ChannelCompletion op) {
        if (overflows(position, src.remaining(), op)) {
            return;
        }
        MemorySegment direct = src.isDirect() ? MemorySegment.ofBuffer(src) : null;
        checkBuffer(direct, op);
        if (engine.isClosed()) {
            op.fail(new AsynchronousCloseException());
            return;
        }
        op.transfersWith(src, false);
        op.event = FileWriteEvent.beginIfEnabled(file.path(), alignment != null);
        int length = src.remaining();
        if (length == 0) {
            op.request = Request.write(file, MemorySegment.NULL, position, "aio");
            op.finish(0);
        } else if (alignment != null) {
            startDirect(op, src, direct, position, length, false, options);
        } else {
            writeBuffered(op, src, direct, position, length, options);
        }
    }

    /**
     * Starts one vectored read (a single PREADV or preadv2) into
     * {@code dsts[offset .. offset + length)}, taking their buffers as the
     * JDK's scattering read does: the remaining bytes of up to
     * {@link #MAX_VECTOR} buffers that have any, at most
     * {@link RequestChecks#MAX_TRANSFER} in all. Each buffer's position
     * advances by its share of the count, in order. On a direct file each
     * buffer's remaining length must be a multiple of the alignment (a failed
     * request otherwise, as the JDK); the buffers go to the kernel in place
     * when every one is aligned native memory whose lifetime panaio guards,
     * else through one bounce buffer of their total.
     */
    public void read(ByteBuffer[] dsts, int offset, int length, long position, ChannelCompletion op) {
        vectored(true, dsts, offset, length, position, op);
    }

    /** As {@link #read(ByteBuffer[], int, int, long, ChannelCompletion)}, for one gathering write. */
    public void write(ByteBuffer[] srcs, int offset, int length, long position, ChannelCompletion op) {
        vectored(false, srcs, offset, length, position, op);
    }

    /** The most buffers one vectored call takes: the kernel's UIO_MAXIOV, which is the JDK's IOV_MAX on Linux. */
    public static final int MAX_VECTOR = 1024;

    private void vectored(boolean read, ByteBuffer[] buffers, int offset, int length, long position,
                          ChannelCompletion op) {
        int room = Math.min(length, MAX_VECTOR);
        ByteBuffer[] chosen = new ByteBuffer[room];
        int count = 0;
        long total = 0;
        for (int i = offset; i < offset + length && count < MAX_VECTOR && total < RequestChecks.MAX_TRANSFER; i++) {
            ByteBuffer buffer = buffers[i];
            int remaining = buffer.remaining();
            if (alignment != null) {
                try {
                    RequestChecks.checkDirectOffset(file, remaining, "length");
                } catch (MisalignedIoException e) {
                    op.fail(e);
                    return;
                }
            }
            if (remaining > 0) {
                chosen[count++] = buffer;
                total += remaining;
            }
        }
        if (count < room) {
            chosen = java.util.Arrays.copyOf(chosen, count);
        }
        // The kernel moves at most MAX_TRANSFER in one call; the last buffer's share is cut there (a multiple of
        // any alignment), and settling advances each buffer by no more than it received.
        long cut = Math.max(0, total - RequestChecks.MAX_TRANSFER);
        total -= cut;
        if (overflows(position, total, op)) {
            return;
        }
        MemorySegment[] direct = new MemorySegment[count];
        for (int k = 0; k < count; k++) {
            ByteBuffer buffer = chosen[k];
            if (buffer.isDirect()) {
                MemorySegment segment = MemorySegment.ofBuffer(buffer);
                direct[k] = k == count - 1 && cut > 0 ? segment.asSlice(0, segment.byteSize() - cut) : segment;
            }
            checkBuffer(direct[k], op);
        }
        if (engine.isClosed()) {
            op.fail(new AsynchronousCloseException());
            return;
        }
        op.transfersWith(chosen, read);
        op.event = read ? FileReadEvent.beginIfEnabled(file.path(), alignment != null)
                : FileWriteEvent.beginIfEnabled(file.path(), alignment != null);
        if (count == 0) {
            op.request = read ? Request.read(file, MemorySegment.NULL, position, "aio")
                    : Request.write(file, MemorySegment.NULL, position, "aio");
            op.finish(0);
        } else if (alignment != null) {
            startDirectVectored(op, chosen, direct, total, position, read);
        } else if (read) {
            readBufferedVectored(op, chosen, direct, total, position);
        } else {
            writeBufferedVectored(op, chosen, direct, total, position);
        }
    }

    /**
     * The caller's buffers, for the kernel to use after this call returns,
     * when every one's lifetime allows (a panaio arena's, a use held by the op
     * until the result is settled; GC-managed memory, kept reachable by the
     * op); null when any must be copied.
     */
    private static MemorySegment[] inPlace(ChannelCompletion op, ByteBuffer[] buffers, MemorySegment[] direct) {
        boolean anyArena = false;
        for (int k = 0; k < direct.length; k++) {
            if (direct[k] == null) {
                return null;
            }
            if (BufferLifetime.panaioArenaOf(direct[k].scope()) != null) {
                anyArena = true;
            } else if (!BufferLifetime.isGcManaged(buffers[k])) {
                return null;
            }
        }
        if (anyArena) {
            ArenaUses[] held = new ArenaUses[direct.length];
            try {
                for (int k = 0; k < direct.length; k++) {
                    ArenaUses uses = BufferLifetime.panaioArenaOf(direct[k].scope());
                    if (uses != null) {
                        uses.acquire();
                        held[k] = uses;
                    }
                }
            } catch (RuntimeException closed) {
                for (ArenaUses uses : held) {
                    if (uses != null) {
                        uses.release();
                    }
                }
                throw closed;
            }
            op.holdsEach(held);
        }
        return direct;
    }

    /**
     * The one segment whose session, held for the duration of a call, keeps
     * every buffer of the vector alive for that call: all memory that is not
     * GC-managed belongs to one arena. Null when none does (a heap buffer, or
     * memory of two arenas).
     */
    private static MemorySegment holdable(ByteBuffer[] buffers, MemorySegment[] direct) {
        MemorySegment held = null;
        for (int k = 0; k < direct.length; k++) {
            if (direct[k] == null) {
                return null;
            }
            if (BufferLifetime.isGcManaged(buffers[k])) {
                continue;
            }
            if (held == null) {
                held = direct[k];
            } else if (!held.scope().equals(direct[k].scope())) {
                return null;
            }
        }
        return held != null ? held : direct[0];
    }

    /**
     * Copies a vector through one pooled aligned buffer of its total: a
     * write's bytes now, a read's when it completes.
     *
     * @return the bounce memory, or null (the request failed) once the engine is closed
     */
    private MemorySegment bounceVector(ChannelCompletion op, ByteBuffer[] buffers, MemorySegment[] direct,
                                       long total, boolean read) {
        AlignedBufferPool pool = ENGINES.bouncePool(engine);
        AlignedBufferPool.Buffer bounce;
        try {
            bounce = pool.acquire(total);
        } catch (IllegalStateException poolClosed) {
            op.fail(new AsynchronousCloseException());
            return null;
        }
        op.bouncesThrough(pool, bounce, read ? buffers : null);
        counters.bounceCopiedBytes.add(total);
        MemorySegment memory = bounce.segment.asSlice(0, total);
        if (!read) {
            try {
                long at = 0;
                for (int k = 0; k < buffers.length; k++) {
                    MemorySegment from = direct[k] != null ? direct[k] : MemorySegment.ofBuffer(buffers[k]);
                    long n = Math.min(from.byteSize(), total - at);
                    MemorySegment.copy(from, 0, memory, at, n);
                    at += n;
                }
            } catch (RuntimeException | Error e) {
                op.releaseBounce(); // the caller's memory went away meanwhile: do not leak the pool's
                throw e;
            }
        }
        return memory;
    }

    /** As {@link #startDirect}, for a vector: in place when every buffer can be, else one bounce of the total. */
    private void startDirectVectored(ChannelCompletion op, ByteBuffer[] buffers, MemorySegment[] direct, long total,
                                     long position, boolean read) {
        MemorySegment[] memory;
        try {
            RequestChecks.checkDirectOffset(file, position, "file position");
            boolean aligned = true;
            for (MemorySegment segment : direct) {
                if (segment == null || !alignment.isMemoryAligned(segment.address())) {
                    aligned = false;
                    if (strict) {
                        if (segment == null) {
                            throw RequestChecks.misaligned("direct I/O on " + file.path() + " needs native memory "
                                    + "aligned to " + alignment.memory() + " bytes, and one of the buffers is a heap "
                                    + "buffer (STRICT_ALIGNMENT is on): use ByteBuffer.allocateDirect and align it, "
                                    + "or open without STRICT_ALIGNMENT to bounce it", alignment.memory());
                        }
                        RequestChecks.checkDirectMemory(file, segment.address(), "buffer address");
                    }
                }
            }
            memory = aligned ? inPlace(op, buffers, direct) : null;
        } catch (MisalignedIoException e) {
            op.fail(e);
            return;
        }
        if (memory == null) {
            MemorySegment bounce = bounceVector(op, buffers, direct, total, read);
            if (bounce == null) {
                return;
            }
            memory = new MemorySegment[] {bounce};
        }
        op.request = read ? Request.readVectored(file, memory, position, "aio", RequestOptions.NONE)
                : Request.writeVectored(file, memory, position, "aio", RequestOptions.NONE);
        op.answeredBy(FileIoEvent.KERNEL_AIO);
        ENGINES.submit(engine, op.request, op);
    }

    /**
     * As {@link #readBuffered}, for a vector: when the page cache holds it all,
     * one preadv2(RWF_NOWAIT) on the calling thread, into the caller's buffers when one held session keeps
     * them all alive for the call; what the page cache did not have is read on
     * the pool, into memory whose lifetime panaio guards.
     */
    private void readBufferedVectored(ChannelCompletion op, ByteBuffer[] buffers, MemorySegment[] direct,
                                      long total, long position) {
        MemorySegment held = holdable(buffers, direct);
        MemorySegment bounce = null;
        MemorySegment[] inline = direct;
        if (held == null) {
            bounce = held = bounceVector(op, buffers, direct, total, true);
            if (bounce == null) {
                return;
            }
            inline = new MemorySegment[] {bounce};
        }
        op.request = Request.readVectored(file, inline, position, "preadv2", RequestOptions.NONE);
        long done = 0;
        if (!nowaitUnsupported && worthReadingInline(position, total)) {
            long result;
            try {
                result = transfer(op.request, aio_abi_h.RWF_NOWAIT(), held);
            } catch (IOException e) {
                op.fail(e);
                return;
            }
            if (result == -ErrnoExceptions.EOPNOTSUPP) {
                nowaitUnsupported = true;
            } else if (result == total || result == 0 || (result < 0 && result != -ErrnoExceptions.EAGAIN)) {
                counters.inlineHits.increment();
                op.answeredBy(FileIoEvent.PAGE_CACHE);
                finishInline(op, result);
                return;
            } else if (result > 0) {
                done = result;
            }
        }
        counters.inlineMisses.increment();
        askCacheFor = ASK_AFTER_MISS;
        MemorySegment[] later = bounce != null ? inline : inPlace(op, buffers, direct);
        if (later == null) {
            MemorySegment copy = bounceVector(op, buffers, direct, total, true);
            if (copy == null) {
                return;
            }
            if (done > 0) {
                try {
                    long at = 0;
                    for (int k = 0; k < direct.length && at < done; k++) {
                        long n = Math.min(direct[k].byteSize(), done - at);
                        MemorySegment.copy(direct[k], 0, copy, at, n); // the whole is copied back at the end
                        at += n;
                    }
                } catch (RuntimeException | Error e) {
                    op.releaseBounce();
                    throw e;
                }
            }
            later = new MemorySegment[] {copy};
            op.request = Request.readVectored(file, later, position, "preadv2", RequestOptions.NONE);
        }
        runBlocking(op, Request.readVectored(file, skip(later, done), position + done, "preadv2",
                RequestOptions.NONE), 0, done);
    }

    /** As {@link #writeBuffered}, for a vector: one pwritev2 on the calling thread, or on the pool for SYNC files. */
    private void writeBufferedVectored(ChannelCompletion op, ByteBuffer[] buffers, MemorySegment[] direct,
                                       long total, long position) {
        if (syncWrites) {
            MemorySegment[] memory = inPlace(op, buffers, direct);
            if (memory == null) {
                MemorySegment bounce = bounceVector(op, buffers, direct, total, false);
                if (bounce == null) {
                    return;
                }
                memory = new MemorySegment[] {bounce};
            }
            op.request = Request.writeVectored(file, memory, position, "pwritev2", RequestOptions.NONE);
            runBlocking(op, op.request, 0, 0);
            return;
        }
        MemorySegment held = holdable(buffers, direct);
        MemorySegment[] memory = direct;
        if (held == null) {
            held = bounceVector(op, buffers, direct, total, false);
            if (held == null) {
                return;
            }
            memory = new MemorySegment[] {held};
        }
        op.request = Request.writeVectored(file, memory, position, "pwritev2", RequestOptions.NONE);
        long result;
        try {
            result = transfer(op.request, 0, held);
        } catch (IOException e) {
            op.fail(e);
            return;
        }
        op.answeredBy(FileIoEvent.PAGE_CACHE);
        finishInline(op, result);
    }

    /** {@code vector} without its first {@code skip} bytes. */
    private static MemorySegment[] skip(MemorySegment[] vector, long skip) {
        if (skip == 0) {
            return vector;
        }
        int first = 0;
        while (skip >= vector[first].byteSize()) {
            skip -= vector[first].byteSize();
            first++;
        }
        MemorySegment[] rest = java.util.Arrays.copyOfRange(vector, first, vector.length);
        rest[0] = rest[0].asSlice(skip);
        return rest;
    }

    /**
     * A position whose end overflows a long fails the request as the JDK's
     * channels do, where pread answers EINVAL: with an {@code IOException}
     * ("Invalid argument"), not at once.
     */
    private static boolean overflows(long position, long length, ChannelCompletion op) {
        if (position + length >= 0) {
            return false;
        }
        op.fail(new IOException("Invalid argument: position " + position + " + length " + length
                + " overflows a long"));
        return true;
    }

    /**
     * The caller's memory, for the kernel to use after this call returns, when
     * its lifetime allows: a panaio arena's (a use is held until the result is
     * settled) or GC-managed memory (kept reachable by the op); null when it
     * must be copied (BufferLifetime).
     */
    private static MemorySegment inPlace(ChannelCompletion op, ByteBuffer buffer, MemorySegment direct) {
        if (direct == null) {
            return null;
        }
        ArenaUses uses = BufferLifetime.panaioArenaOf(direct.scope());
        if (uses != null) {
            uses.acquire();
            op.holds(uses);
            return direct;
        }
        return BufferLifetime.isGcManaged(buffer) ? direct : null;
    }

    /** Misaligned direct I/O fails the request (an IOException, as the JDK reports it), before the kernel sees it. */
    private void startDirect(ChannelCompletion op, ByteBuffer buffer, MemorySegment direct, long position,
                             int length, boolean read, RequestOptions options) {
        MemorySegment memory;
        try {
            memory = chooseDirectMemory(op, buffer, direct, position, length, read);
        } catch (MisalignedIoException e) {
            op.fail(e);
            return;
        }
        if (memory == null) {
            return;
        }
        op.request = read ? Request.read(file, memory, position, "aio", options)
                : Request.write(file, memory, position, "aio", options);
        op.answeredBy(FileIoEvent.KERNEL_AIO);
        ENGINES.submit(engine, op.request, op);
    }

    /** The caller's memory when aligned, else a bounce buffer (null: the request failed), else strict refuses. */
    private MemorySegment chooseDirectMemory(ChannelCompletion op, ByteBuffer buffer, MemorySegment direct,
                                             long position, int length, boolean read) throws MisalignedIoException {
        RequestChecks.checkDirectOffset(file, position, "file position");
        RequestChecks.checkDirectOffset(file, length, "length");

        boolean aligned = direct != null && alignment.isMemoryAligned(direct.address());
        if (strict && !aligned) {
            if (direct == null) {
                throw RequestChecks.misaligned("direct I/O on " + file.path() + " needs native memory aligned to "
                        + alignment.memory() + " bytes, and this is a heap buffer (STRICT_ALIGNMENT is on): use "
                        + "ByteBuffer.allocateDirect and align it, or open without STRICT_ALIGNMENT to bounce it",
                        alignment.memory());
            }
            RequestChecks.checkDirectMemory(file, direct.address(), "buffer address");
        }
        // Aligned memory whose lifetime panaio can guard goes in place; anything else, also a caller's aligned
        // arena memory (which its owner may free while the kernel writes), is copied.
        MemorySegment memory = aligned ? inPlace(op, buffer, direct) : null;
        if (memory == null) {
            memory = bounce(op, buffer, length, read);
        }
        return memory;
    }

    /**
     * Copies through a pooled aligned buffer.
     *
     * @return the bounce memory, or null (the request failed) once the engine is closed
     */
    private MemorySegment bounce(ChannelCompletion op, ByteBuffer buffer, int length, boolean read) {
        AlignedBufferPool pool = ENGINES.bouncePool(engine);
        AlignedBufferPool.Buffer bounce;
        try {
            bounce = pool.acquire(length);
        } catch (IllegalStateException poolClosed) {
            op.fail(new AsynchronousCloseException()); // the engine closed since read() or write() looked
            return null;
        }
        op.bouncesThrough(pool, bounce, read ? buffer : null);
        counters.bounceCopiedBytes.add(length);
        MemorySegment memory = bounce.segment.asSlice(0, length);
        if (!read) {
            try {
                MemorySegment.copy(MemorySegment.ofBuffer(buffer), 0, memory, 0, length);
            } catch (RuntimeException | Error e) {
                op.releaseBounce(); // the caller's memory went away meanwhile: do not leak the pool's
                throw e;
            }
        }
        return memory;
    }

    /**
     * A buffered read: first preadv2(RWF_NOWAIT) on the calling thread, into
     * the caller's memory, whose session the call holds; what the page cache
     * did not have goes to the pool, into memory whose lifetime panaio guards.
     * NOWAIT may stop short mid-file when only the first pages are cached: the
     * rest is read on the pool and the total reported, as a FileChannel does.
     */
    private void readBuffered(ChannelCompletion op, ByteBuffer dst, MemorySegment direct, long position,
                              int length, RequestOptions options) {
        int flags = OPTIONS.rwFlags(options);
        boolean callerNowait = options.has(RwFlag.NOWAIT);
        MemorySegment inline = direct != null ? direct : bounce(op, dst, length, true);
        if (inline == null) {
            return;
        }
        op.request = Request.read(file, inline, position, "preadv2", options);
        long done = 0;
        // The caller's own NOWAIT is always tried: it asked for EAGAIN rather than a wait.
        if (callerNowait || !nowaitUnsupported && worthReadingInline(position, length)) {
            long result;
            try {
                result = transfer(op.request, flags | aio_abi_h.RWF_NOWAIT());
            } catch (IOException e) {
                op.fail(e);
                return;
            }
            if (callerNowait) {
                finishInline(op, result); // the caller asked for EAGAIN rather than a wait: no pool
                return;
            } else if (result == -ErrnoExceptions.EOPNOTSUPP) {
                // tmpfs and friends: go straight to the pool from now on. With the caller's flags the refusal may
                // be theirs: the pool's call, without NOWAIT, then reports it.
                nowaitUnsupported |= flags == 0;
            } else if (result == length || result == 0 || (result < 0 && result != -ErrnoExceptions.EAGAIN)) {
                counters.inlineHits.increment();
                op.answeredBy(FileIoEvent.PAGE_CACHE);
                finishInline(op, result);
                return;
            } else if (result > 0) {
                done = result; // short: the rest was not cached, or the file ends there
            }
        }
        counters.inlineMisses.increment();
        askCacheFor = ASK_AFTER_MISS;
        MemorySegment later = direct == null ? inline : inPlace(op, dst, direct);
        if (later == null) {
            later = bounce(op, dst, length, true);
            if (later == null) {
                return;
            }
            if (done > 0) {
                try {
                    MemorySegment.copy(direct, 0, later, 0, done); // the whole is copied back at the end
                } catch (RuntimeException | Error e) {
                    op.releaseBounce(); // the caller's memory went away meanwhile: do not leak the pool's
                    throw e;
                }
            }
            op.request = Request.read(file, later, position, "preadv2", options);
        }
        runBlocking(op, Request.read(file, later.asSlice(done), position + done, "preadv2", options), flags, done);
    }

    /** Reads asked about (cachestat) after a file's read missed the page cache, unless one misses again. */
    private static final int ASK_AFTER_MISS = 256;

    /**
     * Whether a buffered read of the range should be tried inline. While the
     * file's reads hit, yes, with no question asked (a miss then costs the
     * caller one readahead, and turns the questions on); after a miss, only if
     * cachestat says the page cache holds the whole range.
     */
    private boolean worthReadingInline(long position, long length) {
        if (askCacheFor <= 0 || !hasPageCache()) {
            return true;
        }
        int holds = pageCacheHolds(position, length);
        if (holds == 0) {
            return false;
        }
        askCacheFor--;
        return true;
    }

    /** {@code STATX_TYPE}, {@code S_IFMT} and {@code S_IFREG}, from the kernel's {@code <linux/stat.h>}. */
    private static final int STATX_TYPE = 0x1;
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;

    /** 1 a regular file, -1 not (a device, procfs, a pipe), 0 not yet asked. */
    private int regularFile;

    /**
     * Whether cachestat's answer means anything for this file: only a regular
     * file's pages are counted (it answers 0 cached pages for /dev/zero or a
     * procfs file, whose reads are then tried inline as before). Asked once,
     * with statx, on the first buffered read that would ask cachestat.
     */
    private boolean hasPageCache() {
        int known = regularFile;
        if (known == 0) {
            regularFile = known = isRegularFile() ? 1 : -1;
        }
        return known > 0;
    }

    private boolean isRegularFile() {
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            return true; // the read reports the close
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = statx.allocate(arena);
            long ret = Syscalls.statx(Syscalls.errnoCapture(arena), fd, arena.allocateFrom(""),
                    aio_abi_h.AT_EMPTY_PATH(), STATX_TYPE, buf);
            return ret < 0 || (statx.stx_mode(buf) & S_IFMT) == S_IFREG;
        } finally {
            handle.release();
        }
    }

    /**
     * Whether the page cache holds every page of the range, asked with
     * cachestat, which starts no read: 1 yes, 0 no, -1 unknown (no cachestat
     * here, or the channel was closed meanwhile, which the read then reports).
     */
    private int pageCacheHolds(long position, long length) {
        if (cachestatUnavailable) {
            return -1;
        }
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            return -1;
        }
        long result;
        CacheQuery query = CACHE_QUERY.get();
        try {
            query.range.set(ValueLayout.JAVA_LONG, 0, position);
            query.range.set(ValueLayout.JAVA_LONG, 8, length);
            result = Syscalls.cachestat(query.errno, fd, query.range, query.stat);
        } finally {
            handle.release();
        }
        if (result < 0) {
            if (result == -ErrnoExceptions.ENOSYS || result == -ErrnoExceptions.EPERM) {
                cachestatUnavailable = true;
            }
            return -1;
        }
        long pages = (position + length - 1) / PAGE_SIZE - position / PAGE_SIZE + 1;
        return query.stat.get(ValueLayout.JAVA_LONG, 0) >= pages ? 1 : 0;
    }

    private void writeBuffered(ChannelCompletion op, ByteBuffer src, MemorySegment direct, long position,
                               int length, RequestOptions options) {
        int flags = OPTIONS.rwFlags(options);
        if (syncWrites || options.has(RwFlag.DSYNC) || options.has(RwFlag.SYNC)
                || System.nanoTime() - writesThrottledAt < THROTTLED_FOR_NANOS) {
            // On the pool: only memory whose lifetime panaio guards, else a copy made now.
            MemorySegment memory = inPlace(op, src, direct);
            if (memory == null) {
                memory = bounce(op, src, length, false);
                if (memory == null) {
                    return;
                }
            }
            Request request = op.request = Request.write(file, memory, position, "pwritev2", options);
            runBlocking(op, request, flags, 0);
            return;
        }
        MemorySegment memory = direct != null ? direct : bounce(op, src, length, false);
        if (memory == null) {
            return;
        }
        Request request = op.request = Request.write(file, memory, position, "pwritev2", options);
        long result;
        long start = System.nanoTime();
        try {
            result = transfer(request, flags);
        } catch (IOException e) {
            op.fail(e);
            return;
        }
        long end = System.nanoTime();
        if (end - start > THROTTLED_AFTER_NANOS) {
            writesThrottledAt = end;
        }
        op.answeredBy(FileIoEvent.PAGE_CACHE);
        finishInline(op, result);
    }

    /**
     * A page-cache write that took longer than this was most likely held by
     * the kernel's dirty-page throttling (balance_dirty_pages sleeps the
     * writer for milliseconds at a time): ext4 refuses RWF_NOWAIT for buffered
     * writes (EOPNOTSUPP), so this is how it shows.
     */
    private static final long THROTTLED_AFTER_NANOS = 1_000_000;
    /** For this long after such a write, the file's buffered writes run on the pool, then inline again. */
    private static final long THROTTLED_FOR_NANOS = 1_000_000_000;
    /** When a buffered write of this file last seemed throttled; long ago at first. */
    private volatile long writesThrottledAt = System.nanoTime() - THROTTLED_FOR_NANOS;

    /**
     * Finishes a request on the calling thread. A CompletionHandler goes
     * through the {@link Trampoline}, so that a chain of callbacks runs as a
     * loop; a waiter is parked right here, and a future's dependents are
     * CompletableFuture's business (it unwinds nested completions itself, and
     * a callback may block on that future): those are never deferred.
     */
    private void finishInline(ChannelCompletion op, long result) {
        if (op instanceof ChannelCompletion.ToHandler<?>) {
            Trampoline.deliver(op, result, DeliveryThreads.executor()); // never the pool: a handler may wait for it
        } else {
            op.finish(result);
        }
    }

    /** Runs {@code request} on the pool; {@code done} bytes were read already and count in the result. */
    private void runBlocking(ChannelCompletion op, Request request, int flags, long done) {
        counters.poolRuns.increment();
        op.answeredBy(FileIoEvent.POOL);
        PoolTask task = new PoolTask(op, request, flags, done);
        boolean prefetch = request.kind() == Request.Kind.READ;
        if (prefetch) {
            UNSTARTED_READS.add(task);
        }
        try {
            pool.execute(task);
        } catch (RejectedExecutionException e) {
            if (prefetch) {
                UNSTARTED_READS.remove(task);
            }
            op.fail(new AsynchronousCloseException());
        }
    }

    /**
     * Reads waiting for a pool thread whose pages nobody has asked the kernel
     * for yet. Whichever pool thread starts a task first asks for all of them
     * ({@code POSIX_FADV_WILLNEED}, which starts the disk reads and waits for
     * none), so that as many reads are at the disk as misses are outstanding,
     * while the pool stays small and the caller submits no I/O. Every entry is
     * taken out at the latest when its own task starts, which drains this.
     */
    private static final ConcurrentLinkedQueue<PoolTask> UNSTARTED_READS = new ConcurrentLinkedQueue<>();

    /** A read or write on the pool; a read may have its pages requested ahead by another pool thread. */
    private final class PoolTask implements Runnable {
        private static final VarHandle STARTED;

        static {
            try {
                STARTED = MethodHandles.lookup().findVarHandle(PoolTask.class, "started", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final ChannelCompletion op;
        private final Request request;
        private final int flags;
        private final long done;
        @SuppressWarnings("unused") // through STARTED
        private volatile boolean started;

        PoolTask(ChannelCompletion op, Request request, int flags, long done) {
            this.op = op;
            this.request = request;
            this.flags = flags;
            this.done = done;
        }

        /** Asks the kernel to start reading this task's pages into the page cache, once. */
        void startPageReads() {
            if (STARTED.compareAndSet(this, false, true)) {
                willNeed(request.position(), request.length());
            }
        }

        @Override
        public void run() {
            STARTED.setVolatile(this, true); // its own read below starts its pages
            for (PoolTask next; (next = UNSTARTED_READS.poll()) != null; ) {
                next.startPageReads();
            }
            long result;
            try {
                result = transfer(request, flags);
            } catch (IOException | RuntimeException e) {
                // The caller's code runs off the pool, which it may wait for.
                if (done > 0) {
                    op.finishOffPool(done);
                } else {
                    op.failOffPool(e);
                }
                return;
            }
            op.finishOffPool(done == 0 ? result : result < 0 ? done : done + result);
        }
    }

    /** posix_fadvise(WILLNEED) on the range, when the channel is still open; its result changes nothing. */
    private void willNeed(long position, long length) {
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            return;
        }
        try {
            Syscalls.posix_fadvise(fd, position, length, aio_abi_h.POSIX_FADV_WILLNEED());
        } finally {
            handle.release();
        }
    }

    /** One preadv2 or pwritev2 of the request's memory, holding its first buffer's session for the call. */
    private long transfer(Request request, int flags) throws IOException {
        return transfer(request, flags, request.segment() != null ? request.segment() : request.vector()[0]);
    }

    /**
     * One preadv2 or pwritev2 of the whole segment, or of the whole vector:
     * bytes, or -errno. EINTR is retried. {@code held} is an argument of the
     * downcall, so FFM holds its arena's session for the call.
     */
    private long transfer(Request request, int flags, MemorySegment held) throws IOException {
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            // The channel was open when the request started: it was closed meanwhile, as the JDK reports it.
            throw new AsynchronousCloseException();
        }
        try {
            Scratch scratch = SCRATCH.get();
            MemorySegment errno = scratch.errno;
            MemorySegment[] vector = request.vector();
            int count = vector != null ? vector.length : 1;
            MemorySegment iov = scratch.iovecs(count);
            if (vector == null) {
                iovec.iov_base(iov, request.segment());
                iovec.iov_len(iov, request.segment().byteSize());
            } else {
                for (int i = 0; i < count; i++) {
                    MemorySegment entry = iovec.asSlice(iov, i);
                    iovec.iov_base(entry, vector[i]);
                    iovec.iov_len(entry, vector[i].byteSize());
                }
            }
            long position = request.position();
            // The held segment is an argument of the downcall, so FFM holds its arena's session for the call: the
            // caller cannot free it while the kernel copies (see Syscalls.preadv2Holding).
            return request.kind() == Request.Kind.READ
                    ? Syscalls.restartOnEintr(() -> Syscalls.preadv2Holding(errno, fd, iov, count, position, flags,
                    held))
                    : Syscalls.restartOnEintr(() -> Syscalls.pwritev2Holding(errno, fd, iov, count, position, flags,
                    held));
        } finally {
            handle.release();
        }
    }
}
