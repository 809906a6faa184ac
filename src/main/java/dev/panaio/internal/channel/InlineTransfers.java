package dev.panaio.internal.channel;

import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;
import dev.panaio.internal.context.RequestChecks;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.jfr.FileIoEvent;
import dev.panaio.internal.jfr.FileReadEvent;
import dev.panaio.internal.jfr.FileWriteEvent;
import dev.panaio.internal.stats.SharedCounters;
import dev.panaio.internal.sys.ErrnoExceptions;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A channel's buffered reads and writes answered on the calling thread with
 * no per-call object: no completion, no request, no memory segment. A
 * platform thread calling the blocking channel makes its own {@code pread}
 * or {@code pwrite}, hit or miss, as FileChannel does; a virtual thread, or
 * the asynchronous channel's caller, only what the page cache answers at
 * once ({@code preadv2(RWF_NOWAIT)}). Whatever they cannot take goes the
 * general way, through {@link FileIo}. One per {@link FileIo}.
 *
 * <p>Thread-safe, as {@link FileIo} is.
 */
public final class InlineTransfers {
    private final KernelRequests inKernel;
    private final AioEngine engine;
    private final AioFile file;
    private final DirectAlignment alignment;
    private final SharedCounters counters;
    private final PageCacheQuestion question;
    private final BufferedTransfer transfer;

    InlineTransfers(KernelRequests inKernel, AioEngine engine, AioFile file, DirectAlignment alignment, SharedCounters counters,
                    PageCacheQuestion question, BufferedTransfer transfer) {
        this.inKernel = inKernel;
        this.engine = engine;
        this.file = file;
        this.alignment = alignment;
        this.counters = counters;
        this.question = question;
        this.transfer = transfer;
    }

    /** {@link #readInline} and {@link #writeInline}: not tried, nothing done; the general path must run. */
    public static final long NOT_INLINE = Long.MIN_VALUE;
    /**
     * {@link #readInline}: the page cache lacks (part of) the range. The
     * buffer advanced by what was read; {@link FileIo#readMissed} reads the
     * rest. ({@link #readAtOnce} rewinds it: the pool reads the whole range.)
     */
    public static final long MISSED = Long.MIN_VALUE + 1;

    /**
     * A blocking channel's buffered read of {@code dst}'s remaining bytes at
     * {@code position} on the calling thread, with no per-call object: on a
     * platform thread a {@code pread}, hit or miss ({@link #readOnCaller});
     * on a virtual thread, only what the page cache answers at once, so that
     * its carrier is never held. A direct buffer the garbage collector frees
     * goes to {@code preadv2(RWF_NOWAIT)} (or {@code pread}) by its address (remembered per thread and
     * buffer), a heap buffer through the (platform) thread's own native memory
     * ({@link BufferedTransfer#transferInPlace}). At or past the end of the
     * file the answer is -1, also inline: the kernel checks the size before
     * it looks for pages.
     *
     * @return the count ({@code dst} advanced by it), -1 at the end of the
     *         file, {@link #MISSED}, or {@link #NOT_INLINE} (a direct file, a
     *         platform thread's arena buffer, an empty one, a closed engine, a
     *         file that refuses NOWAIT: {@link FileIo#read(ByteBuffer, long, ChannelCompletion)}
     *         decides and reports)
     * @throws IOException the read's error, as the general path reports it
     */
    public long readInline(ByteBuffer dst, long position) throws IOException {
        int length = dst.remaining();
        if (alignment != null || length == 0 || position + length < 0 || engine.isClosed()) {
            return NOT_INLINE;
        }
        if (!Thread.currentThread().isVirtual()) {
            return readOnCaller(dst, position);
        }
        return readNowait(dst, position, length, true);
    }

    /**
     * The asynchronous channel's buffered read, answered by the page cache on
     * the calling thread before any request object is made, as a virtual
     * thread's through {@link #readInline}: {@code preadv2(RWF_NOWAIT)} only,
     * never a call that may wait for the disk, whatever the thread.
     *
     * @return the count ({@code dst} advanced by it), -1 at the end of the
     *         file, {@link #MISSED} ({@code dst} as it was: {@link FileIo#readMissed}
     *         reads the whole range on the pool, unasked), or
     *         {@link #NOT_INLINE} (nothing done: the general path decides)
     * @throws IOException the read's error, as the general path reports it
     */
    public long readAtOnce(ByteBuffer dst, long position) throws IOException {
        int length = dst.remaining();
        if (alignment != null || length == 0 || position + length < 0 || engine.isClosed()) {
            return NOT_INLINE;
        }
        int start = dst.position();
        long n = readNowait(dst, position, length, false);
        if (n == MISSED) {
            dst.position(start); // short mid-file: the pool reads the whole range, the cached start again
        }
        return n;
    }

    /**
     * {@link #readInline}'s NOWAIT attempt, for a virtual thread or the
     * asynchronous channel. A buffer over an arena's memory is read with its
     * arena's session held for the call; memory confined to the calling thread
     * only where the caller settles the result itself ({@code onCaller}), as
     * the general path checks it.
     */
    private long readNowait(ByteBuffer dst, long position, int length, boolean onCaller) throws IOException {
        if (transfer.readsRefuseNowait()) {
            return NOT_INLINE;
        }
        if (!BufferedTransfer.takesIfHeap(dst)) {
            return NOT_INLINE; // a heap buffer it does not copy here: the general path, which asks the page cache
        }
        if (!question.worthReadingInline(position, length)) {
            return MISSED; // any buffer: the pool takes it as the general path does, and this thread touched nothing
        }
        FileIoEvent event = FileReadEvent.beginIfEnabled(file.path(), false);
        long result = transfer.transferInPlace(dst, position, true, aio_abi_h.RWF_NOWAIT());
        if (result == BufferedTransfer.NOT_IN_PLACE) {
            if (!dst.isDirect()) {
                return NOT_INLINE; // a heap buffer it does not take (over 128 KiB, on a virtual thread)
            }
            MemorySegment held = MemorySegment.ofBuffer(dst); // an arena's: held for the call
            if (!held.scope().isAlive()) {
                throw new IllegalStateException("the buffer's arena is already closed");
            }
            if (!onCaller) {
                RequestChecks.checkNotConfined(held); // the result may be settled on another thread
            }
            result = transfer.readHolding(held, position, aio_abi_h.RWF_NOWAIT());
        }
        if (result > 0) {
            dst.position(dst.position() + (int) result);
            if (result < length && !question.endsAt(position + result)) {
                return MISSED; // short mid-file: the rest was not cached
            }
        } else if (result == -ErrnoExceptions.EAGAIN) {
            return MISSED;
        } else if (result == -ErrnoExceptions.EOPNOTSUPP) {
            transfer.readRefusedNowait(); // tmpfs and friends: the pool from now on
            return NOT_INLINE;
        } else if (result < 0) {
            // Answered at once on this thread, as FileIo counts it: an inline hit, not a miss (no pool ran).
            counters.inlineHits.increment();
            if (event != null) {
                event.answeredBy(FileIoEvent.PAGE_CACHE);
                event.complete(0);
            }
            throw Request.read(file, MemorySegment.ofBuffer(dst), position, "preadv2").failure((int) -result);
        }
        // 0: at or past the end of the file
        counters.inlineHits.increment();
        long value = result == 0 ? -1 : result;
        if (event != null) {
            event.answeredBy(FileIoEvent.PAGE_CACHE);
            event.complete(value);
        }
        return value;
    }

    /**
     * A platform thread's read through the blocking channel: the thread waits
     * for the disk whoever makes the read, so it makes it itself, with
     * {@code pread}, as {@code FileChannel} does, hit or miss: no NOWAIT
     * attempt (a one-element {@code preadv2} costs the kernel an iovec copy,
     * about 0.1 µs a call here), no hand-off to the pool on a miss. It counts
     * with the channel's requests in the kernel, so that {@code close()}
     * waits for it as the JDK's waits for its {@code pread}.
     */
    private long readOnCaller(ByteBuffer dst, long position) throws IOException {
        if (!inKernel.enter()) {
            return NOT_INLINE; // a close has begun: the general path reports it
        }
        FileIoEvent event = FileReadEvent.beginIfEnabled(file.path(), false);
        long result;
        try {
            result = transfer.transferInPlace(dst, position, true, 0);
        } finally {
            inKernel.leave();
        }
        if (result == BufferedTransfer.NOT_IN_PLACE) {
            return NOT_INLINE; // an arena's buffer: the general path, whose call holds the arena's session
        }
        if (result < 0) {
            if (event != null) {
                event.answeredBy(FileIoEvent.CALLER);
                event.complete(0);
            }
            throw Request.read(file, MemorySegment.ofBuffer(dst), position, "pread").failure((int) -result);
        }
        dst.position(dst.position() + (int) result);
        long value = result == 0 ? -1 : result;
        if (event != null) {
            event.answeredBy(FileIoEvent.CALLER);
            event.complete(value);
        }
        return value;
    }

    /**
     * A blocking channel's buffered write of {@code src}'s remaining bytes at
     * {@code position} on the calling platform thread, which waits for it
     * anyway (see {@link FileIo#writesOnCaller}), with no per-call object, taking
     * buffers as {@link #readInline} does.
     *
     * @return the count ({@code src} advanced by it), or {@link #NOT_INLINE}
     *         (nothing done) on a virtual thread, for a direct file, or a
     *         buffer {@link #readInline} does not take
     * @throws IOException the write's error, as the general path reports it
     */
    public long writeInline(ByteBuffer src, long position) throws IOException {
        int length = src.remaining();
        if (alignment != null || length == 0 || position + length < 0 || Thread.currentThread().isVirtual()
                || engine.isClosed() || !inKernel.enter()) {
            return NOT_INLINE; // or a close has begun: the general path reports it
        }
        FileIoEvent event = FileWriteEvent.beginIfEnabled(file.path(), false);
        long result;
        try {
            result = transfer.transferInPlace(src, position, false, 0);
        } finally {
            inKernel.leave();
        }
        if (result == BufferedTransfer.NOT_IN_PLACE) {
            return NOT_INLINE; // a buffer it does not take: the general path
        }
        if (result < 0) {
            if (event != null) {
                event.answeredBy(FileIoEvent.CALLER);
                event.complete(0);
            }
            throw Request.write(file, MemorySegment.ofBuffer(src), position, "pwrite").failure((int) -result);
        }
        src.position(src.position() + (int) result);
        if (event != null) {
            event.answeredBy(FileIoEvent.CALLER);
            event.complete(result);
        }
        return result;
    }
}
