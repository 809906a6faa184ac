package dev.panaio.internal.ring;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.aio_ring;
import dev.panaio.internal.gen.aio_abi.io_event;

/**
 * The layout of the completion ring that {@code io_setup} maps into the
 * process, and the protocol for reaping it from user space.
 *
 * <p>The context id that io_setup returns is the ring's address. The
 * structure is private to the kernel (fs/aio.c), so jextract generates it
 * from panaio's own {@code headers/aio_ring.h}; the offsets here are taken
 * from that generated layout, and a test checks them against gcc.
 *
 * <pre>
 *   0        4        8        12       16       20       24       28       32
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   |   id   |   nr   |  head  |  tail  | magic  | compat |incompat| hdrlen |
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   | io_event[0]: data u64 | obj u64 | res s64 | res2 s64        (32 bytes) |
 *   | io_event[1] ...                                                        |
 *   | io_event[nr - 1]                                                       |
 *   +------------------------------------------------------------------------+
 * </pre>
 *
 * <p><b>Who writes what.</b> The kernel writes the events and {@code tail};
 * the single reaper writes {@code head}; {@code io_getevents} also advances
 * {@code head}, so a context reaps with one or the other at a time, never
 * both at once. Nobody in user space writes {@code id}: a corrupted id makes
 * every later io_* call on the context fail with EINVAL.
 *
 * <p><b>Happens-before edges.</b>
 * <ol>
 *   <li>The kernel stores an event, issues {@code smp_wmb()}, then stores
 *       {@code tail}. The reaper loads {@code tail} with acquire semantics
 *       ({@code getAcquire}), so every event before that tail is visible to
 *       its plain loads that follow.</li>
 *   <li>The reaper loads the events, then stores {@code head} with release
 *       semantics ({@code setRelease}). The kernel reads {@code head} to learn
 *       which slots are free, so it can never overwrite an event the reaper
 *       has not finished loading.</li>
 * </ol>
 * {@code head} and {@code tail} are indices in {@code [0, nr)}: they wrap
 * modulo {@code nr}, and {@code head == tail} means empty.
 *
 * <p><b>When not to reap here.</b> A ring whose {@code magic} is not
 * {@link #MAGIC}, or whose {@code incompat_features} is not
 * {@link #INCOMPAT_FEATURES}, has a layout panaio does not know: completions
 * must then be read with io_getevents only.
 */
public final class AioRingDescriptor {
    private AioRingDescriptor() {
    }

    /** Offset of {@code nr}, the number of event slots. */
    public static final long NR_OFFSET = aio_ring.nr$offset();
    /** Offset of {@code head}, the consumer index, written with release semantics by the reaper. */
    public static final long HEAD_OFFSET = aio_ring.head$offset();
    /** Offset of {@code tail}, the producer index, read with acquire semantics. */
    public static final long TAIL_OFFSET = aio_ring.tail$offset();
    /** Offset of {@code magic}. */
    public static final long MAGIC_OFFSET = aio_ring.magic$offset();
    /** Offset of {@code compat_features}. */
    public static final long COMPAT_FEATURES_OFFSET = aio_ring.compat_features$offset();
    /** Offset of {@code incompat_features}. */
    public static final long INCOMPAT_FEATURES_OFFSET = aio_ring.incompat_features$offset();
    /** Offset of {@code header_length}. */
    public static final long HEADER_LENGTH_OFFSET = aio_ring.header_length$offset();
    /** Offset of the first event: the header's size. */
    public static final long EVENTS_OFFSET = aio_ring.io_events$offset();

    /** Size of one {@code struct io_event}. */
    public static final long EVENT_SIZE = io_event.sizeof();
    /** Offset of {@code io_event.data} within an event: the iocb's {@code aio_data}. */
    public static final long EVENT_DATA_OFFSET = io_event.data$offset();
    /** Offset of {@code io_event.res} within an event: bytes transferred, or {@code -errno}. */
    public static final long EVENT_RES_OFFSET = io_event.res$offset();

    /** {@code magic} of a ring with this layout. */
    public static final int MAGIC = aio_abi_h.AIO_RING_MAGIC();
    /** The only {@code incompat_features} value this layout can be reaped with. */
    public static final int INCOMPAT_FEATURES = aio_abi_h.AIO_RING_INCOMPAT_FEATURES();
}
