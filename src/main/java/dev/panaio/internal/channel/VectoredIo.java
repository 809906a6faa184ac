package dev.panaio.internal.channel;

import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;
import dev.panaio.MisalignedIoException;
import dev.panaio.RequestOptions;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.context.RequestChecks;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.jfr.FileIoEvent;
import dev.panaio.internal.jfr.FileReadEvent;
import dev.panaio.internal.jfr.FileWriteEvent;
import dev.panaio.internal.memory.AlignedBufferPool;
import dev.panaio.internal.memory.ArenaUses;
import dev.panaio.internal.memory.BufferLifetime;
import dev.panaio.internal.stats.SharedCounters;
import dev.panaio.internal.sys.ErrnoExceptions;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;

import static dev.panaio.internal.channel.FileIo.MAX_VECTOR;

/**
 * One file's vectored reads and writes (a single PREADV, PWRITEV, preadv2 or
 * pwritev2 over several buffers), routed as {@link FileIo} routes a single
 * buffer's: direct files through the engine, in place or through one bounce
 * buffer of the total; buffered ones inline when the page cache allows, else
 * on the pool. One per {@link FileIo}.
 *
 * <p>Thread-safe.
 */
final class VectoredIo {
    private static final SharedSecrets.EngineAccess ENGINES = SharedSecrets.engineAccess();

    /** The router, whose record of the file refusing NOWAIT for writes the vectored writes share. */
    private final FileIo io;
    private final AioEngine engine;
    private final AioFile file;
    private final DirectAlignment alignment;
    private final boolean strict;
    private final boolean syncWrites;
    private final SharedCounters counters;
    private final PageCacheQuestion question;
    private final BufferedTransfer transfer;
    private final BlockingTasks blocking;

    VectoredIo(FileIo io, AioEngine engine, AioFile file, DirectAlignment alignment, boolean strict,
               boolean syncWrites, SharedCounters counters, PageCacheQuestion question, BufferedTransfer transfer,
               BlockingTasks blocking) {
        this.io = io;
        this.engine = engine;
        this.file = file;
        this.alignment = alignment;
        this.strict = strict;
        this.syncWrites = syncWrites;
        this.counters = counters;
        this.question = question;
        this.transfer = transfer;
        this.blocking = blocking;
    }

    void start(boolean read, ByteBuffer[] buffers, int offset, int length, long position, ChannelCompletion op) {
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
        if (FileIo.overflows(position, total, op)) {
            return;
        }
        MemorySegment[] direct = new MemorySegment[count];
        for (int k = 0; k < count; k++) {
            ByteBuffer buffer = chosen[k];
            if (buffer.isDirect()) {
                MemorySegment segment = MemorySegment.ofBuffer(buffer);
                direct[k] = k == count - 1 && cut > 0 ? segment.asSlice(0, segment.byteSize() - cut) : segment;
            }
            RequestMemory.checkBuffer(direct[k], op);
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

    /**
     * As FileIo's {@code startDirect}, for a vector: in place when every buffer
     * can be, else one bounce of the total.
     */
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
        op.countedBy(io.inKernel);
        ENGINES.submit(engine, op.request, op);
    }

    /**
     * As FileIo's {@code readBuffered}, for a vector: when the page cache holds it all,
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
        if (!transfer.readsRefuseNowait() && question.worthReadingInline(position, total)) {
            long result;
            try {
                result = transfer.transfer(op.request, aio_abi_h.RWF_NOWAIT(), held);
            } catch (IOException e) {
                op.fail(e);
                return;
            }
            if (result == -ErrnoExceptions.EOPNOTSUPP) {
                transfer.readRefusedNowait();
            } else if (result == total || result == 0 || (result < 0 && result != -ErrnoExceptions.EAGAIN)) {
                counters.inlineHits.increment();
                op.answeredBy(FileIoEvent.PAGE_CACHE);
                io.finishInline(op, result);
                return;
            } else if (result > 0) {
                done = result;
            }
        }
        counters.inlineMisses.increment();
        question.readMissed();
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
        blocking.runBlocking(op, Request.readVectored(file, skip(later, done), position + done, "preadv2",
                RequestOptions.NONE), 0, done);
    }

    /**
     * As FileIo's {@code writeBuffered}, for a vector: one pwritev2 on the
     * blocking channel's platform thread; else queued for the pool, after one
     * pwritev2(RWF_NOWAIT) on the calling thread where the filesystem takes it.
     */
    private void writeBufferedVectored(ChannelCompletion op, ByteBuffer[] buffers, MemorySegment[] direct,
                                       long total, long position) {
        boolean here = FileIo.writesOnCaller(op);
        long done = 0;
        MemorySegment bounce = null;
        if (here || !syncWrites && io.attemptsNowaitWrite()) {
            MemorySegment held = holdable(buffers, direct);
            MemorySegment[] memory = direct;
            if (held == null) {
                bounce = held = bounceVector(op, buffers, direct, total, false);
                if (held == null) {
                    return;
                }
                memory = new MemorySegment[] {held};
            }
            op.request = Request.writeVectored(file, memory, position, "pwritev2", RequestOptions.NONE);
            long result;
            try {
                result = transfer.transfer(op.request, here ? 0 : aio_abi_h.RWF_NOWAIT(), held);
            } catch (IOException e) {
                op.fail(e);
                return;
            }
            if (here || result == total || result == 0
                    || (result < 0 && result != -ErrnoExceptions.EAGAIN && result != -ErrnoExceptions.EOPNOTSUPP)) {
                op.answeredBy(FileIoEvent.PAGE_CACHE);
                io.finishInline(op, result);
                return;
            } else if (result == -ErrnoExceptions.EOPNOTSUPP) {
                io.writesRefuseNowait = true; // ext4, tmpfs: from now on straight to the queue
            } else if (result > 0) {
                done = result; // the kernel stopped where it would have had to wait
            }
        }
        // Queued: only memory whose lifetime panaio guards, else one copy of the total made now.
        MemorySegment[] later = bounce != null ? new MemorySegment[] {bounce} : inPlace(op, buffers, direct);
        if (later == null) {
            MemorySegment copy = bounceVector(op, buffers, direct, total, false);
            if (copy == null) {
                return;
            }
            later = new MemorySegment[] {copy};
        }
        op.request = Request.writeVectored(file, later, position, "pwritev2", RequestOptions.NONE);
        io.writes.add(op, done == 0 ? op.request
                : Request.writeVectored(file, skip(later, done), position + done, "pwritev2", RequestOptions.NONE),
                0, done);
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
}
