package dev.panaio;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;

/**
 * Per-request flags for reads and writes ({@code iocb.aio_rw_flags}, the
 * {@code RWF_*} values of preadv2/pwritev2). Combine them in
 * {@link RequestOptions#withFlags}.
 *
 * <p>The kernel rejects a flag the filesystem does not support, with
 * EOPNOTSUPP either from io_submit or in the completion's result.
 */
public enum RwFlag {
    /**
     * Does nothing for AIO (RWF_HIPRI): polled completion is io_uring's and
     * preadv2's business, and the kernel's {@code aio_prep_rw} clears
     * {@code IOCB_HIPRI} from every AIO request ("no one is going to poll for
     * this I/O"), which then completes through the ring as any other. Kept
     * because it is public API and the kernel accepts it.
     */
    HIPRI,
    /** This write is {@code O_DSYNC} (RWF_DSYNC). */
    DSYNC,
    /** This write is {@code O_SYNC} (RWF_SYNC). */
    SYNC,
    /**
     * Fail with EAGAIN in the result rather than block (RWF_NOWAIT, Linux
     * 4.13+): a buffered read of pages not in the page cache, or an O_DIRECT
     * write that must allocate blocks. tmpfs rejects it in io_submit with
     * EOPNOTSUPP.
     */
    NOWAIT,
    /** Append this write at end of file, ignoring the position (RWF_APPEND). */
    APPEND,
    /** Honour the position even on an {@code O_APPEND} file (RWF_NOAPPEND, Linux 6.9+). */
    NOAPPEND,
    /** Drop the pages from the page cache once written back (RWF_DONTCACHE, Linux 6.14+). */
    DONTCACHE;

    /**
     * The kernel's value. Looked up on use rather than in the enum's
     * initialiser: the generated header class calls restricted methods when it
     * initialises, which must wait for panaio's native-access check.
     */
    int bits() {
        return switch (this) {
            case HIPRI -> aio_abi_h.RWF_HIPRI();
            case DSYNC -> aio_abi_h.RWF_DSYNC();
            case SYNC -> aio_abi_h.RWF_SYNC();
            case NOWAIT -> aio_abi_h.RWF_NOWAIT();
            case APPEND -> aio_abi_h.RWF_APPEND();
            case NOAPPEND -> aio_abi_h.RWF_NOAPPEND();
            case DONTCACHE -> aio_abi_h.RWF_DONTCACHE();
        };
    }
}
