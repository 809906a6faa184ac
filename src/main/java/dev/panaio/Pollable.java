package dev.panaio;

/**
 * Something whose readiness {@link AioContext#preparePoll} can wait for with
 * {@code IOCB_CMD_POLL}: an {@link AioFile} (a FIFO or a character device,
 * say) or an {@link EventFd}.
 *
 * <p>The kernel's AIO poll supports files that wait on one queue. A FIFO
 * opened for both reading and writing waits on two, and a poll on it that
 * has to wait is rejected by io_submit with EINVAL; open one end only (or
 * poll only when it is already ready).
 *
 * <p>Sealed so that no public API ever takes a raw file descriptor number.
 */
public sealed interface Pollable permits AioFile, EventFd {
}
