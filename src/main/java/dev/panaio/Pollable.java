package dev.panaio;

/**
 * Something whose readiness {@link AioContext#preparePoll} can wait for with
 * {@code IOCB_CMD_POLL}: an {@link AioFile} (a FIFO or a character device,
 * say) or an {@link EventFd}.
 *
 * <p>Sealed so that no public API ever takes a raw file descriptor number.
 */
public sealed interface Pollable permits AioFile, EventFd {
}
