package dev.panaio.internal.channel;

import dev.panaio.internal.engine.Request;
import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import dev.panaio.internal.memory.KnownBuffers;
import dev.panaio.internal.sys.ErrnoExceptions;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;

/**
 * One file's buffered calls: a preadv2 or pwritev2 of a request's memory,
 * made on the calling thread (a page-cache hit) or a pool thread. One per
 * {@link FileIo}.
 *
 * <p>Any thread may call it: its native scratch is per thread.
 */
final class BufferedTransfer {
    private final FileDescriptorHandle handle;
    /** Set once the file refuses RWF_NOWAIT for reads (EOPNOTSUPP: tmpfs and friends). */
    private volatile boolean readsRefuseNowait;

    BufferedTransfer(FileDescriptorHandle handle) {
        this.handle = handle;
    }

    /** Whether the file has refused RWF_NOWAIT for a read: its reads then go straight to the pool. */
    boolean readsRefuseNowait() {
        return readsRefuseNowait;
    }

    /** Records that the file refused RWF_NOWAIT for a read (EOPNOTSUPP), for every later read. */
    void readRefusedNowait() {
        readsRefuseNowait = true;
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
        /** What is known of the direct buffer this thread passed last: one look, not a table's, for a repeat. */
        private KnownBuffers.Known lastBuffer;
        /** Where a heap buffer's bytes pass through on this thread's page-cache calls; grown on demand. */
        private MemorySegment heapCopy;

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

        MemorySegment heapCopy(int length) {
            if (heapCopy == null || heapCopy.byteSize() < length) {
                heapCopy = Arena.ofAuto().allocate(Math.max(length, 8192), 64);
            }
            return heapCopy;
        }
    }

    /** The largest heap buffer a page-cache call copies through its thread's native memory; larger ones bounce. */
    static final int MAX_HEAP_COPY = 128 * 1024;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** What {@link #transferInPlace} answers when it cannot take the buffer: the general path must run. */
    static final long NOT_IN_PLACE = Long.MIN_VALUE;

    /**
     * One preadv2 or pwritev2 (pread or pwrite without flags) of {@code buffer}'s remaining bytes at
     * {@code position}, on the calling thread, allocating nothing once the
     * thread has seen the buffer: bytes, or -errno (EINTR is retried); the
     * buffer's position is not moved. A direct buffer whose memory is freed
     * only by the garbage collector ({@code allocateDirect}, a mapped file)
     * is handed to the kernel by its address, and kept reachable until the
     * call returns, which is all its lifetime needs; a heap buffer goes
     * through the thread's own native memory, as the JDK's channels copy
     * through a cached temporary direct buffer.
     *
     * @return bytes, -errno, or {@link #NOT_IN_PLACE} (nothing was done) for a
     *         buffer over an arena's memory, a read-only heap buffer (it
     *         lends no array), a heap buffer larger than {@link #MAX_HEAP_COPY}
     *         or on a virtual thread
     * @throws AsynchronousCloseException if the channel was closed meanwhile
     */
    long transferInPlace(ByteBuffer buffer, long position, boolean read, int flags)
            throws AsynchronousCloseException {
        int length = buffer.remaining();
        Scratch scratch = SCRATCH.get();
        MemorySegment heapCopy = null;
        long address;
        if (buffer.isDirect()) {
            KnownBuffers.Known known = scratch.lastBuffer;
            if (known == null || !known.refersTo(buffer)) {
                scratch.lastBuffer = known = KnownBuffers.of(buffer);
            }
            if (!known.isGcManaged()) {
                return NOT_IN_PLACE; // an arena's: read through readHolding, or the general way
            }
            int from = buffer.position();
            if (from + (long) length > buffer.capacity()) {
                return NOT_IN_PLACE; // moved by another thread meanwhile (misuse): the general way checks it
            }
            address = known.base + from;
        } else {
            // Not on a virtual thread: each would keep native memory of its own until the collector finds it gone.
            if (length > MAX_HEAP_COPY || !buffer.hasArray() || Thread.currentThread().isVirtual()) {
                return NOT_IN_PLACE;
            }
            heapCopy = scratch.heapCopy(length);
            address = heapCopy.address();
            if (!read) {
                MemorySegment.copy(buffer.array(), buffer.arrayOffset() + buffer.position(), heapCopy,
                        ValueLayout.JAVA_BYTE, 0, length);
            }
        }
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            throw new AsynchronousCloseException();
        }
        long result;
        try {
            result = flags == 0 ? plainCall(scratch, fd, read, address, length, position)
                    : vectorCall(scratch, fd, read, address, length, position, flags);
        } finally {
            handle.release();
            // The kernel had the buffer's memory by address only: keep what frees that memory unreachable until here.
            Reference.reachabilityFence(buffer);
            Reference.reachabilityFence(heapCopy);
        }
        if (heapCopy != null && read && result > 0) {
            MemorySegment.copy(heapCopy, ValueLayout.JAVA_BYTE, 0, buffer.array(),
                    buffer.arrayOffset() + buffer.position(), (int) result);
        }
        return result;
    }

    /**
     * pread or pwrite of {@code length} bytes at {@code address}: no iovec for
     * the kernel to copy in, about 0.1 µs less a call than a one-element
     * preadv2. EINTR is retried. A method of its own, kept small, so that the
     * JIT inlines the downcall whole and its capture of errno allocates
     * nothing.
     */
    private static long plainCall(Scratch scratch, int fd, boolean read, long address, int length, long position) {
        long result;
        do {
            result = read ? Syscalls.pread(scratch.errno, fd, address, length, position)
                    : Syscalls.pwrite(scratch.errno, fd, address, length, position);
        } while (result == -ErrnoExceptions.EINTR);
        return result;
    }

    /** As {@link #plainCall}, with per-call RWF flags: a one-element preadv2 or pwritev2. */
    private static long vectorCall(Scratch scratch, int fd, boolean read, long address, int length, long position,
                                   int flags) {
        MemorySegment iov = scratch.iov;
        iov.set(ValueLayout.JAVA_LONG, iovec.iov_base$offset(), address);
        iov.set(ValueLayout.JAVA_LONG, iovec.iov_len$offset(), length);
        long result;
        do {
            result = read ? Syscalls.preadv2(scratch.errno, fd, iov, 1, position, flags)
                    : Syscalls.pwritev2(scratch.errno, fd, iov, 1, position, flags);
        } while (result == -ErrnoExceptions.EINTR);
        return result;
    }

    /**
     * Whether {@link #transferInPlace} takes {@code buffer} if it is a heap
     * buffer (true for a direct one, which it takes or which
     * {@link #readHolding} reads): at most {@link #MAX_HEAP_COPY} bytes, with
     * an array, on a platform thread.
     */
    static boolean takesIfHeap(ByteBuffer buffer) {
        return buffer.isDirect() || buffer.remaining() <= MAX_HEAP_COPY && buffer.hasArray()
                && !Thread.currentThread().isVirtual();
    }

    /** One preadv2 or pwritev2 of the request's memory, holding its first buffer's session for the call. */
    long transfer(Request request, int flags) throws IOException {
        return transfer(request, flags, request.segment() != null ? request.segment() : request.vector()[0]);
    }

    /**
     * One preadv2 or pwritev2 of the whole segment, or of the whole vector:
     * bytes, or -errno. EINTR is retried. {@code held} is an argument of the
     * downcall, so FFM holds its arena's session for the call.
     */
    long transfer(Request request, int flags, MemorySegment held) throws IOException {
        MemorySegment[] vector = request.vector();
        boolean read = request.kind() == Request.Kind.READ;
        if (vector == null) {
            return one(read, request.segment(), request.position(), flags, held);
        }
        int fd = acquire();
        try {
            Scratch scratch = SCRATCH.get();
            MemorySegment errno = scratch.errno;
            int count = vector.length;
            MemorySegment iov = scratch.iovecs(count);
            for (int i = 0; i < count; i++) {
                MemorySegment entry = iovec.asSlice(iov, i);
                iovec.iov_base(entry, vector[i]);
                iovec.iov_len(entry, vector[i].byteSize());
            }
            long position = request.position();
            // The held segment is an argument of the downcall, so FFM holds its arena's session for the call: the
            // caller cannot free it while the kernel copies (see Syscalls.preadv2Holding).
            return read
                    ? Syscalls.restartOnEintr(() -> Syscalls.preadv2Holding(errno, fd, iov, count, position, flags,
                    held))
                    : Syscalls.restartOnEintr(() -> Syscalls.pwritev2Holding(errno, fd, iov, count, position, flags,
                    held));
        } finally {
            handle.release();
        }
    }

    /**
     * One preadv2 into {@code held}, a buffer over an arena's memory, at
     * {@code position}, with no request made: the segment is an argument of
     * the downcall, so its arena cannot be closed while the kernel copies
     * (as {@link #transfer(Request, int, MemorySegment)}). EINTR is retried.
     *
     * @return bytes, or -errno
     * @throws AsynchronousCloseException if the channel was closed meanwhile
     */
    long readHolding(MemorySegment held, long position, int flags) throws AsynchronousCloseException {
        return one(true, held, position, flags, held);
    }

    /**
     * One preadv2 or pwritev2 of one segment, holding {@code held}'s session
     * for the call; EINTR is retried in a loop, which makes no object.
     */
    private long one(boolean read, MemorySegment segment, long position, int flags, MemorySegment held)
            throws AsynchronousCloseException {
        int fd = acquire();
        try {
            Scratch scratch = SCRATCH.get();
            MemorySegment iov = scratch.iov;
            iovec.iov_base(iov, segment);
            iovec.iov_len(iov, segment.byteSize());
            long result;
            do {
                result = read
                        ? Syscalls.preadv2Holding(scratch.errno, fd, iov, 1, position, flags, held)
                        : Syscalls.pwritev2Holding(scratch.errno, fd, iov, 1, position, flags, held);
            } while (result == -ErrnoExceptions.EINTR);
            return result;
        } finally {
            handle.release();
        }
    }

    /** The descriptor, counted in use until {@code handle.release()}. */
    private int acquire() throws AsynchronousCloseException {
        try {
            return handle.acquire();
        } catch (IllegalStateException closed) {
            // The channel was open when the request started: it was closed meanwhile, as the JDK reports it.
            throw new AsynchronousCloseException();
        }
    }
}
