package dev.panaio.internal.channel;

import dev.panaio.internal.engine.Request;
import dev.panaio.internal.gen.aio_abi.iovec;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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

    BufferedTransfer(FileDescriptorHandle handle) {
        this.handle = handle;
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

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

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
