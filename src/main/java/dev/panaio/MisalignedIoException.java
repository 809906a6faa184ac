package dev.panaio;

import java.io.IOException;

/**
 * A request on a file opened for direct I/O ({@code O_DIRECT}) breaks the
 * file's alignment rules: its buffer address, file position or length is not
 * a multiple of what the filesystem and device require.
 *
 * <p>Raised before the kernel sees the request (the kernel would only answer
 * EINVAL). The message names the value, the required alignment and the fix;
 * {@link AioFile#alignment()} gives the rules.
 *
 * <p>It is an {@link IOException}, as the JDK's channels report misaligned
 * direct I/O, so that code catching {@code IOException} around direct I/O
 * keeps working: {@link AioFileChannel}'s blocking calls throw it;
 * {@link AioAsynchronousFileChannel} and {@link AioEngine} fail the future
 * (or call the handler's {@code failed}) with it; {@link AioContext}'s
 * {@code prepare} methods throw it.
 */
public final class MisalignedIoException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The alignment the offending value must be a multiple of. */
    private final long requiredAlignment;

    MisalignedIoException(String message, long requiredAlignment) {
        super(message);
        this.requiredAlignment = requiredAlignment;
    }

    /**
     * The alignment the offending value must be a multiple of.
     *
     * @return the alignment in bytes
     */
    public long requiredAlignment() {
        return requiredAlignment;
    }
}
