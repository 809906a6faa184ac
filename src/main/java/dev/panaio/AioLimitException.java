package dev.panaio;

import dev.panaio.internal.sys.ErrnoExceptions;

/**
 * {@code io_setup} failed for lack of room: with EAGAIN, the system-wide
 * budget of AIO events, the sysctl {@code fs.aio-max-nr}, would be exceeded;
 * with ENOMEM ({@link #errno()}), the ring could not be mapped, most often
 * because the process has as many memory mappings as {@code vm.max_map_count}
 * allows (each context is one), and the message says so.
 *
 * <p>Every open context is charged the capacity it asked for, plus one for
 * its own wake-up poll, until it is closed. Close unused contexts, ask for
 * less, or raise the limit (as root: {@code sysctl -w fs.aio-max-nr=N}).
 */
public final class AioLimitException extends AioException {
    private static final long serialVersionUID = 1L;

    /** fs.aio-nr when the call failed. */
    private final long aioNr;
    /** fs.aio-max-nr when the call failed. */
    private final long aioMaxNr;

    AioLimitException(String message, int errno, long aioNr, long aioMaxNr) {
        super(message, "io_setup", errno);
        this.aioNr = aioNr;
        this.aioMaxNr = aioMaxNr;
    }

    /**
     * {@code /proc/sys/fs/aio-nr} when the call failed.
     *
     * @return the events charged to open contexts, or -1 if unreadable
     */
    public long aioNr() {
        return aioNr;
    }

    /**
     * {@code /proc/sys/fs/aio-max-nr} when the call failed.
     *
     * @return the limit, or -1 if unreadable
     */
    public long aioMaxNr() {
        return aioMaxNr;
    }
}
