package dev.panaio.internal.sys;


import java.util.concurrent.atomic.AtomicInteger;

/**
 * A file descriptor whose number stays valid while any prepared request
 * names it.
 *
 * <p>An fd number is only valid until close(2); after that the next open()
 * may reuse it for another file, and a request still carrying the old number
 * would read or write the wrong file. So each prepared request holds a use of
 * the handle until io_submit has passed it to the kernel (which then holds
 * its own reference to the open file), and close(2) runs when the owner has
 * closed the handle and the last use is released.
 *
 * <p>Thread-safe.
 */
public final class FileDescriptorHandle {
    private static final int CLOSED = 1;
    private static final int USE = 2;

    private final int fd;
    private final String description;
    /** {@code uses * USE | CLOSED}. */
    private final AtomicInteger state = new AtomicInteger();

    public FileDescriptorHandle(int fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    /** Takes a use of the descriptor and returns its number. */
    public int acquire() {
        for (;;) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException(description + " is closed");
            }
            if (state.compareAndSet(s, s + USE)) {
                return fd;
            }
        }
    }

    /** Gives back a use taken by {@link #acquire()}. */
    public void release() {
        if (state.addAndGet(-USE) == CLOSED) {
            closeDescriptor();
        }
    }

    public boolean isOpen() {
        return (state.get() & CLOSED) == 0;
    }

    /**
     * Closes the handle; the descriptor is closed now, or when the last use is
     * released. Idempotent.
     *
     * @return the errno of an immediate close(2) that failed, else 0
     */
    public int close() {
        int s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) {
                return 0;
            }
        } while (!state.compareAndSet(s, s | CLOSED));
        return s == 0 ? closeDescriptor() : 0;
    }

    /** The number, for calls made while the caller holds a use or knows the handle is open. */
    public int fd() {
        return fd;
    }

    private int closeDescriptor() {
        long ret = Syscalls.close(CallScratch.get().closeErrno, fd);
        // EINTR from close(2) still closes the descriptor on Linux: never retry it.
        return ret < 0 && ret != -ErrnoExceptions.EINTR ? (int) -ret : 0;
    }

    @Override
    public String toString() {
        return description;
    }
}
