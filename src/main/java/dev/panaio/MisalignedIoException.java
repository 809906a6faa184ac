package dev.panaio;

/**
 * A request on a file opened for direct I/O ({@code O_DIRECT}) breaks the
 * file's alignment rules: its buffer address, file position or length is not
 * a multiple of what the filesystem and device require.
 *
 * <p>Thrown before the kernel sees the request (the kernel would only answer
 * EINVAL). The message names the value, the required alignment and the fix;
 * {@link AioFile#alignment()} gives the rules.
 */
public final class MisalignedIoException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final long requiredAlignment;

    MisalignedIoException(String message, long requiredAlignment) {
        super(message);
        this.requiredAlignment = requiredAlignment;
    }

    /** The alignment, in bytes, the offending value must be a multiple of. */
    public long requiredAlignment() {
        return requiredAlignment;
    }
}
