package dev.panaio;

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
    /** No flags, default priority, no eventfd. */
    public static final RequestOptions NONE = new RequestOptions(0, null, null);

    private final int rwFlags;
    private final IoPriority priority;
    private final EventFd notify;

    private RequestOptions(int rwFlags, IoPriority priority, EventFd notify) {
        this.rwFlags = rwFlags;
        this.priority = priority;
        this.notify = notify;
    }

    /** These options plus the given rw flags. */
    public RequestOptions withFlags(RwFlag... flags) {
        int bits = rwFlags;
        for (RwFlag flag : flags) {
            bits |= Objects.requireNonNull(flag, "flag").bits;
        }
        return new RequestOptions(bits, priority, notify);
    }

    /** These options with the given I/O priority ({@code IOCB_FLAG_IOPRIO}). */
    public RequestOptions withPriority(IoPriority priority) {
        return new RequestOptions(rwFlags, Objects.requireNonNull(priority, "priority"), notify);
    }

    /**
     * These options, signalling {@code eventFd} on completion
     * ({@code IOCB_FLAG_RESFD}): each completion adds 1 to its counter. The
     * eventfd must be open when the request is prepared.
     */
    public RequestOptions withNotify(EventFd eventFd) {
        return new RequestOptions(rwFlags, priority, Objects.requireNonNull(eventFd, "eventFd"));
    }

    /** Whether the given flag is set. */
    public boolean has(RwFlag flag) {
        return (rwFlags & flag.bits) != 0;
    }

    int rwFlags() {
        return rwFlags;
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
