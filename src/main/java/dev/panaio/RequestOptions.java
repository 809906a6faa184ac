package dev.panaio;

import dev.panaio.internal.access.SharedSecrets;

import java.util.Objects;

/**
 * Options for one prepared request: rw flags, an I/O priority, and an
 * eventfd to signal on completion.
 *
 * <p>Immutable and thread-safe. Build the combinations you need once and
 * reuse them, so that preparing requests allocates nothing:
 * {@snippet :
 * static final RequestOptions NOWAIT = RequestOptions.NONE.withFlags(RwFlag.NOWAIT);
 * }
 */
public final class RequestOptions {
    static {
        SharedSecrets.setOptionsAccess(new SharedSecrets.OptionsAccess() {
            @Override
            public int rwFlags(RequestOptions options) {
                return options.rwFlags();
            }

            @Override
            public IoPriority priority(RequestOptions options) {
                return options.priority();
            }

            @Override
            public short reqprio(IoPriority priority) {
                return priority.value();
            }

            @Override
            public EventFd notifyEventFd(RequestOptions options) {
                return options.notifyEventFd();
            }
        });
    }

    /** No flags, default priority, no eventfd. */
    public static final RequestOptions NONE = new RequestOptions(0, null, null);

    /** The flags as a set of {@link RwFlag} ordinals; translated to the kernel's bits on first use. */
    private final int flagSet;
    /** The kernel's RWF_* bits, or -1 until computed; a benign race computes the same value. */
    private int rwFlags = -1;
    private final IoPriority priority;
    private final EventFd notify;

    private RequestOptions(int flagSet, IoPriority priority, EventFd notify) {
        this.flagSet = flagSet;
        this.priority = priority;
        this.notify = notify;
    }

    /**
     * These options plus the given rw flags.
     *
     * @param flags the flags to add
     * @return new options; this one is not changed
     */
    public RequestOptions withFlags(RwFlag... flags) {
        int set = flagSet;
        for (RwFlag flag : flags) {
            set |= 1 << Objects.requireNonNull(flag, "flag").ordinal();
        }
        return new RequestOptions(set, priority, notify);
    }

    /**
     * These options with the given I/O priority ({@code IOCB_FLAG_IOPRIO}).
     *
     * @param priority the priority, replacing any set before
     * @return new options; this one is not changed
     */
    public RequestOptions withPriority(IoPriority priority) {
        return new RequestOptions(flagSet, Objects.requireNonNull(priority, "priority"), notify);
    }

    /**
     * These options, signalling {@code eventFd} on completion
     * ({@code IOCB_FLAG_RESFD}): each completion adds 1 to its counter. The
     * eventfd must be open when the request is prepared.
     *
     * @param eventFd the eventfd to signal, replacing any set before
     * @return new options; this one is not changed
     */
    public RequestOptions withNotify(EventFd eventFd) {
        return new RequestOptions(flagSet, priority, Objects.requireNonNull(eventFd, "eventFd"));
    }

    /**
     * Whether the given flag is set.
     *
     * @param flag the flag to test
     * @return true if set
     */
    public boolean has(RwFlag flag) {
        return (flagSet & 1 << flag.ordinal()) != 0;
    }

    /** The kernel's {@code aio_rw_flags} value. */
    int rwFlags() {
        int bits = rwFlags;
        if (bits < 0) {
            bits = 0;
            for (RwFlag flag : RwFlag.values()) {
                if (has(flag)) {
                    bits |= flag.bits();
                }
            }
            rwFlags = bits;
        }
        return bits;
    }

    IoPriority priority() {
        return priority;
    }

    EventFd notifyEventFd() {
        return notify;
    }

    @Override
    public String toString() {
        var sb = new StringBuilder("RequestOptions[flags=");
        String sep = "";
        for (RwFlag flag : RwFlag.values()) {
            if (has(flag)) {
                sb.append(sep).append(flag);
                sep = "|";
            }
        }
        return sb.append(", priority=").append(priority).append(", notify=").append(notify).append(']').toString();
    }
}
