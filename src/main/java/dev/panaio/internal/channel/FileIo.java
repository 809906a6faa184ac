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
import dev.panaio.internal.engine.EngineLoop;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.jfr.FileIoEvent;
import dev.panaio.internal.jfr.FileReadEvent;
import dev.panaio.internal.jfr.FileWriteEvent;
import dev.panaio.internal.memory.KnownBuffers;
import dev.panaio.internal.stats.SharedCounters;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Path;

/**
 * The positional reads and writes behind panaio's channels: where each one
 * goes, so that the calling thread never waits for a disk, unless it is a
 * platform thread calling the blocking channel, which waits anyway and makes
 * its own {@code pread} or {@code pwrite} of one buffer, as FileChannel does
 * ({@link InlineTransfers}).
 *
 * <ul>
 *   <li><b>Direct files</b> ({@code O_DIRECT}): through the engine's kernel
 *       AIO. Positions and lengths must be aligned; a heap or misaligned
 *       buffer is copied through an aligned bounce buffer (one memcpy of the
 *       request's size), or rejected in strict mode.</li>
 *   <li><b>Buffered reads</b>: the calling thread first asks the page cache
 *       whether it holds every page of the range ({@code cachestat(2)}, which
 *       reads nothing), and only then reads them with
 *       {@code preadv2(RWF_NOWAIT)}. Once {@link PageCacheQuestion#ASK_AFTER_MISS} reads of a
 *       file in a row have hit, its reads stop asking (one system call less
 *       each) until one misses: that miss alone may start a readahead on the
 *       caller's thread, and turns the questions back on; a file whose reads
 *       keep missing asks for one read in
 *       {@link PageCacheQuestion#ASK_ONE_IN_WHILE_MISSING} and sends the
 *       others to the pool unasked. A miss goes to the engine's small
 *       blocking pool, whose threads start the disk reads of every miss
 *       waiting for them ({@link BlockingTasks}). Pages past the end of the
 *       file, which cachestat counts as missing, do not count as misses, and a
 *       NOWAIT read short at the end of the file is the answer (both asked
 *       with statx). The question comes first
 *       because a NOWAIT read that misses is not free: before it answers
 *       EAGAIN the kernel starts reading the missing pages (readahead), which
 *       submits block I/O from the caller's thread. Where cachestat is missing
 *       (before Linux 6.5) the NOWAIT attempt is made alone; where NOWAIT is
 *       (EOPNOTSUPP, tmpfs) every read goes to the pool. AIO would not help
 *       here: buffered AIO reads run synchronously inside io_submit.</li>
 *   <li><b>Buffered writes</b> can hold the caller for milliseconds: the
 *       kernel throttles a process that dirties pages faster than the disk
 *       takes them, and a write waits for the file's lock while another
 *       writer holds it. Only the blocking channel's platform threads, which
 *       wait for the write anyway, make it themselves. Everyone else (the
 *       asynchronous channel, virtual threads) hands it to the file's
 *       {@link WriteQueue}, which the pool drains; a filesystem that takes
 *       {@code RWF_NOWAIT} for buffered writes gets one NOWAIT attempt on the
 *       caller first, while nothing of the file is queued. XFS takes it
 *       (measured on Linux 6.18), answering EAGAIN where it would have to
 *       wait: to update the file's timestamps (about once per clock tick),
 *       to zero a gap past its end, for its lock while another writer holds
 *       it, or for dirty-page throttling; ext4 and tmpfs refuse it
 *       (EOPNOTSUPP): there every such write is queued. Writes to a file
 *       opened with DSYNC or SYNC, or with those flags, wait for the disk and
 *       are always queued.</li>
 * </ul>
 * Each request's sink is finished exactly once: on the calling thread, an engine
 * thread or a pool thread.
 *
 * <p>Buffers: the kernel touches a caller's memory after the call that handed
 * it over returns only when panaio guards its lifetime ({@code AioArena}: a use
 * held by the {@link ChannelCompletion}; GC-managed memory: kept reachable);
 * anything else goes through a bounce buffer, copied back with a liveness
 * check. The inline page-cache calls pass the caller's segment as an argument
 * of the downcall, so FFM holds its session while the kernel copies; those of
 * a blocking channel ({@link InlineTransfers}) pass memory the
 * garbage collector frees by its address, the buffer kept reachable for the
 * call, and copy a heap buffer through the thread's own native memory.
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
    private final boolean syncWrites;
    /**
     * Set once the file refuses RWF_NOWAIT for buffered writes (ext4 does,
     * XFS takes it); shared with {@link VectoredIo}. For reads,
     * {@link BufferedTransfer#readsRefuseNowait()}.
     */
    volatile boolean writesRefuseNowait;
    private final SharedCounters counters;
    private final PageCacheQuestion question;
    private final BufferedTransfer transfer;
    private final BlockingTasks blocking;
    private final RequestMemory requestMemory;
    /** The file's buffered writes handed off to the pool; shared with {@link VectoredIo}. */
    final WriteQueue writes;
    private final VectoredIo vectored;
    /** This channel's requests in the kernel, which its close waits for. */
    final KernelRequests inKernel = new KernelRequests();
    private final InlineTransfers inline;

    private FileIo(AioEngine engine, AioFile file, boolean strict, boolean syncWrites) throws IOException {
        this.engine = engine;
        this.file = file;
        this.handle = SharedSecrets.fileAccess().handle(file);
        this.alignment = file.isDirect() ? file.alignment() : null;
        this.syncWrites = syncWrites;
        this.counters = ENGINES.sharedCounters(engine);
        this.question = new PageCacheQuestion(handle);
        this.transfer = new BufferedTransfer(handle);
        this.requestMemory = new RequestMemory(engine, file, alignment, strict, counters);
        // The engine's blocking pool, looked up only when a task is handed to it: it is made on first use.
        this.blocking = new BlockingTasks(handle, task -> ENGINES.blockingPool(engine).execute(task), counters,
                transfer, inKernel, BlockingTasks.Window.of(engine));
        this.writes = new WriteQueue(task -> ENGINES.blockingPool(engine).execute(task), counters, transfer,
                inKernel);
        this.vectored = new VectoredIo(this, engine, file, alignment, strict, syncWrites, counters, question,
                transfer, blocking);
        this.inline = new InlineTransfers(inKernel, engine, file, alignment, counters, question, transfer);
    }

    /** The channel's reads and writes answered on the calling thread with no per-call object. */
    public InlineTransfers inline() {
        return inline;
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

    /**
     * The channel's part of its close, before its descriptor closes: from now
     * on no request of the channel enters the kernel (one still queued in the
     * engine fails with {@code AsynchronousCloseException}), and the calling
     * thread waits, not interruptibly, for those already there to finish, as
     * the JDK's close waits for a thread inside pread or pwrite. Never on an
     * engine thread (a completion handler closing its channel), where the
     * wait could be for that thread itself: there it returns at once, and
     * the requests in the kernel complete later with their results.
     */
    public void closeAndAwaitKernel() {
        inKernel.closeAndAwait(!EngineLoop.isAnyEngineThread());
    }

    /**
     * Counts in a system call the channel makes on the calling thread that
     * its close waits for, as the JDK's does (force, size, truncate ...);
     * false once the close has begun, when the call must not start.
     * {@link #leaveKernelCall()} counts it out.
     */
    public boolean enterKernelCall() {
        return inKernel.enter();
    }

    /** Counts out a call counted in by {@link #enterKernelCall()}. */
    public void leaveKernelCall() {
        inKernel.leave();
    }

    /** Requests of the channel counted in the kernel now (a snapshot, for tests). */
    public int inKernel() {
        return inKernel.inKernel();
    }

    /** Refuses a blocking call on one of the engine's threads (in a completion callback): it would wait for itself. */
    public void checkNotOnEngineThread() {
        if (ENGINES.isEngineThread(engine)) {
            throw new IllegalStateException("a blocking AioFileChannel call on an AioEngine thread (in a completion "
                    + "callback) would wait for that thread itself: use AioAsynchronousFileChannel or the engine's "
                    + "futures there, or move the call to another executor");
        }
    }

    /** Starts a read of {@code dst}'s remaining bytes at {@code position}; its position advances by the count. */
    public void read(ByteBuffer dst, long position, ChannelCompletion op) {
        read(dst, position, RequestOptions.NONE, op);
    }

    /**
     * The rest of a read that {@link InlineTransfers#readInline} found
     * {@link InlineTransfers#MISSED}, or the whole of one that
     * {@link InlineTransfers#readAtOnce} did: on the pool, with no further
     * inline attempt.
     */
    public void readMissed(ByteBuffer dst, long position, ChannelCompletion op) {
        read(dst, position, RequestOptions.NONE, op, false);
    }

    /**
     * As {@link #read(ByteBuffer, long, ChannelCompletion)} with the caller's
     * rw flags and priority (never an eventfd): in the iocb for a direct file;
     * as preadv2's flags for a buffered one, where priority does not apply.
     */
    public void read(ByteBuffer dst, long position, RequestOptions options, ChannelCompletion op) {
        read(dst, position, options, op, true);
    }

    private void read(ByteBuffer dst, long position, RequestOptions options, ChannelCompletion op,
                      boolean tryInline) {
        if (overflows(position, dst.remaining(), op)) {
            return;
        }
        KnownBuffers.Known known = knownInPlace(dst);
        MemorySegment direct = dst.isDirect() && known == null ? MemorySegment.ofBuffer(dst) : null;
        RequestMemory.checkBuffer(direct, op);
        RequestMemory.checkKnown(known);
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
        } else if (alignment != null) { // a known buffer's file is always direct (knownInPlace)
            startDirect(op, dst, known, direct, position, length, true, options);
        } else {
            readBuffered(op, dst, direct, position, length, options, tryInline);
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
     * and so is queued for the pool (except on the blocking channel's platform
     * threads, which make every buffered write themselves).
     */
    public void write(ByteBuffer src, long position, RequestOptions options, ChannelCompletion op) {
        if (overflows(position, src.remaining(), op)) {
            return;
        }
        KnownBuffers.Known known = knownInPlace(src);
        MemorySegment direct = src.isDirect() && known == null ? MemorySegment.ofBuffer(src) : null;
        RequestMemory.checkBuffer(direct, op);
        RequestMemory.checkKnown(known);
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
        } else if (alignment != null) { // a known buffer's file is always direct (knownInPlace)
            startDirect(op, src, known, direct, position, length, false, options);
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
        vectored.start(true, dsts, offset, length, position, op);
    }

    /** As {@link #read(ByteBuffer[], int, int, long, ChannelCompletion)}, for one gathering write. */
    public void write(ByteBuffer[] srcs, int offset, int length, long position, ChannelCompletion op) {
        vectored.start(false, srcs, offset, length, position, op);
    }

    /** The most buffers one vectored call takes: the kernel's UIO_MAXIOV, which is the JDK's IOV_MAX on Linux. */
    public static final int MAX_VECTOR = 1024;

    /**
     * A position whose end overflows a long fails the request as the JDK's
     * channels do, where pread answers EINVAL: with an {@code IOException}
     * ("Invalid argument"), not at once.
     */
    static boolean overflows(long position, long length, ChannelCompletion op) {
        if (position + length >= 0) {
            return false;
        }
        op.fail(new IOException("Invalid argument: position " + position + " + length " + length
                + " overflows a long"));
        return true;
    }

    /**
     * What is known of a direct file's direct buffer that the kernel may use
     * in place, else null (a buffered file, a heap buffer, a caller's own
     * arena's memory: the general path). For memory the garbage collector
     * frees, which is always alive and never confined to a thread, the
     * request's completion keeps the buffer itself reachable
     * ({@link ChannelCompletion#transfersWith}) until the kernel is done with
     * it; an {@code AioArena}'s (shared) holds a use of the arena until then.
     * Either way the request takes the memory's address, and no segment of
     * the JDK's is made for it.
     */
    private KnownBuffers.Known knownInPlace(ByteBuffer buffer) {
        if (alignment == null || !buffer.isDirect()) {
            return null;
        }
        KnownBuffers.Known known = KnownBuffers.of(buffer);
        return known.isUsableInPlace() ? known : null;
    }

    /**
     * Misaligned direct I/O fails the request (an IOException, as the JDK
     * reports it), before the kernel sees it. {@code known}: what is known of
     * a buffer the kernel may use in place ({@link #knownInPlace}), else null
     * and {@code direct} is the buffer's memory (null for a heap buffer).
     */
    private void startDirect(ChannelCompletion op, ByteBuffer buffer, KnownBuffers.Known known,
                             MemorySegment direct, long position, int length, boolean read, RequestOptions options) {
        MemorySegment memory;
        try {
            memory = known != null
                    ? requestMemory.chooseKnownMemory(op, buffer, known, position, length, read)
                    : requestMemory.chooseDirectMemory(op, buffer, direct, position, length, read);
        } catch (MisalignedIoException e) {
            op.fail(e);
            return;
        }
        if (memory == null) {
            return; // the request failed
        }
        op.request = read ? Request.read(file, memory, position, "aio", options)
                : Request.write(file, memory, position, "aio", options);
        op.answeredBy(FileIoEvent.KERNEL_AIO);
        op.countedBy(inKernel);
        ENGINES.submit(engine, op.request, op);
    }

    /**
     * A buffered read: first preadv2(RWF_NOWAIT) on the calling thread, into
     * the caller's memory, whose session the call holds; what the page cache
     * did not have goes to the pool, into memory whose lifetime panaio guards.
     * NOWAIT may stop short mid-file when only the first pages are cached: the
     * rest is read on the pool and the total reported, as a FileChannel does.
     */
    private void readBuffered(ChannelCompletion op, ByteBuffer dst, MemorySegment direct, long position,
                              int length, RequestOptions options, boolean tryInline) {
        int flags = OPTIONS.rwFlags(options);
        boolean callerNowait = options.has(RwFlag.NOWAIT);
        MemorySegment inline = direct != null ? direct : requestMemory.bounce(op, dst, length, true);
        if (inline == null) {
            return;
        }
        op.request = Request.read(file, inline, position, "preadv2", options);
        long done = 0;
        // The caller's own NOWAIT is always tried: it asked for EAGAIN rather than a wait.
        if (callerNowait || tryInline && !transfer.readsRefuseNowait() && question.worthReadingInline(position, length)) {
            long result;
            try {
                result = transfer.transfer(op.request, flags | aio_abi_h.RWF_NOWAIT());
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
                if (flags == 0) {
                    transfer.readRefusedNowait();
                }
            } else if (result == length || result == 0 || (result < 0 && result != -ErrnoExceptions.EAGAIN)) {
                counters.inlineHits.increment();
                op.answeredBy(FileIoEvent.PAGE_CACHE);
                finishInline(op, result);
                return;
            } else if (result > 0) {
                if (question.endsAt(position + result)) { // short at the end of the file: the whole answer
                    counters.inlineHits.increment();
                    op.answeredBy(FileIoEvent.PAGE_CACHE);
                    finishInline(op, result);
                    return;
                }
                done = result; // short mid-file: the rest was not cached
            }
        }
        counters.inlineMisses.increment();
        question.readMissed();
        MemorySegment later = direct == null ? inline : RequestMemory.inPlace(op, dst, direct);
        if (later == null) {
            later = requestMemory.bounce(op, dst, length, true);
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
        blocking.runBlocking(op, Request.read(file, later.asSlice(done), position + done, "preadv2", options), flags,
                done);
    }

    /**
     * A buffered write. On the blocking channel's platform thread, which
     * waits for it anyway (as a FileChannel's does), one pwritev2 right here.
     * Anywhere else (an asynchronous request, a virtual thread) the caller
     * must not be held: where the filesystem takes RWF_NOWAIT for buffered
     * writes and none of the file's writes is queued, one pwritev2(RWF_NOWAIT)
     * here, into the page cache or EAGAIN; what it did not write goes to the
     * file's {@link WriteQueue}. A caller's own NOWAIT is always tried here and
     * its answer given, pool or not.
     */
    private void writeBuffered(ChannelCompletion op, ByteBuffer src, MemorySegment direct, long position,
                               int length, RequestOptions options) {
        int flags = OPTIONS.rwFlags(options);
        boolean callerNowait = options.has(RwFlag.NOWAIT);
        boolean here = callerNowait || writesOnCaller(op);
        boolean attempt = !here && !syncWrites && !options.has(RwFlag.DSYNC) && !options.has(RwFlag.SYNC)
                && attemptsNowaitWrite();
        MemorySegment inline = null;
        long done = 0;
        if (here || attempt) {
            inline = direct != null ? direct : requestMemory.bounce(op, src, length, false);
            if (inline == null) {
                return;
            }
            op.request = Request.write(file, inline, position, "pwritev2", options);
            long result;
            try {
                result = transfer.transfer(op.request, here ? flags : flags | aio_abi_h.RWF_NOWAIT());
            } catch (IOException e) {
                op.fail(e);
                return;
            }
            if (here) {
                // A caller's own NOWAIT was answered by the page cache; else this platform thread's own write.
                op.answeredBy(callerNowait ? FileIoEvent.PAGE_CACHE : FileIoEvent.CALLER);
                finishInline(op, result);
                return;
            }
            if (result == -ErrnoExceptions.EOPNOTSUPP) {
                // ext4, tmpfs: from now on straight to the queue. With the caller's flags the refusal may be theirs:
                // the pool's call, without NOWAIT, then reports it.
                writesRefuseNowait |= flags == 0;
            } else if (result == length || result == 0 || (result < 0 && result != -ErrnoExceptions.EAGAIN)) {
                op.answeredBy(FileIoEvent.PAGE_CACHE);
                finishInline(op, result);
                return;
            } else if (result > 0) {
                done = result; // the kernel stopped where it would have had to wait
            }
        }
        // Queued: only memory whose lifetime panaio guards, else a copy made now.
        MemorySegment later = direct == null && inline != null ? inline : RequestMemory.inPlace(op, src, direct);
        if (later == null) {
            later = requestMemory.bounce(op, src, length, false);
            if (later == null) {
                return;
            }
        }
        op.request = Request.write(file, later, position, "pwritev2", options);
        writes.add(op, done == 0 ? op.request
                : Request.write(file, later.asSlice(done), position + done, "pwritev2", options), flags, done);
    }

    /**
     * Whether a buffered write is made on the calling thread without NOWAIT:
     * only by the blocking channel on a platform thread, which waits for the
     * write whatever makes it. A virtual thread's carrier would be pinned in
     * the call; it parks instead, unmounted, while the pool writes.
     */
    static boolean writesOnCaller(ChannelCompletion op) {
        return op.settlesOnCaller() && !Thread.currentThread().isVirtual();
    }

    /**
     * Whether a buffered write that must not hold its caller first tries
     * pwritev2(RWF_NOWAIT) on the calling thread: not once the file has
     * refused it (ext4 and tmpfs do, EOPNOTSUPP), nor while any of the
     * file's writes waits in the queue or is being made by the pool, which it
     * would overtake.
     */
    boolean attemptsNowaitWrite() {
        return !writesRefuseNowait && writes.isIdle();
    }

    /**
     * Finishes a request on the calling thread. A CompletionHandler goes
     * through the {@link Trampoline}, so that a chain of callbacks runs as a
     * loop; a waiter is parked right here, and a future's dependents are
     * CompletableFuture's business (it unwinds nested completions itself, and
     * a callback may block on that future): those are never deferred. A
     * handler run by the default pool is deferred, on a pool thread, until
     * that thread's running handler returns ({@link HandlerChains}).
     */
    void finishInline(ChannelCompletion op, long result) {
        if (op instanceof ChannelCompletion.ToHandler<?> handler) {
            handler.foundByCaller();
            if (handler.deliversOnPool()) {
                op.finish(result); // runs no caller code here: the handler is deferred or handed to the pool
                return;
            }
            Trampoline.deliver(op, result, DeliveryThreads.executor()); // never the pool: a handler may wait for it
        } else {
            op.finish(result);
        }
    }
}
