package dev.panaio;

import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.sys.ErrnoExceptions;

import java.io.IOException;

/**
 * A system call made by panaio failed.
 *
 * <p>The message names the call and its arguments, the errno by name and by
 * libc's description, and, where one is known, what to do about it.
 * Subclasses exist where a caller acts differently: {@link AioLimitException}
 * and {@link SubmitException}.
 */
public class AioException extends IOException {
    private static final long serialVersionUID = 1L;

    static {
        SharedSecrets.setExceptionAccess(new SharedSecrets.ExceptionAccess() {
            @Override
            public AioException aioException(String message, String call, int errno) {
                return new AioException(message, call, errno);
            }

            @Override
            public AioException aioLimitException(String message, int errno, long aioNr, long aioMaxNr) {
                return new AioLimitException(message, errno, aioNr, aioMaxNr);
            }

            @Override
            public SubmitException submitException(String message, int errno, int accepted, long failedTag,
                                                   long[] unsubmittedTags) {
                return new SubmitException(message, errno, accepted, failedTag, unsubmittedTags);
            }

            @Override
            public MisalignedIoException misalignedIoException(String message, long requiredAlignment) {
                return new MisalignedIoException(message, requiredAlignment);
            }
        });
    }

    /** The system call that failed. */
    private final String call;
    /** The errno it failed with. */
    private final int errno;

    AioException(String message, String call, int errno) {
        super(message);
        this.call = call;
        this.errno = errno;
    }

    /**
     * The system call that failed, such as {@code "io_submit"} or
     * {@code "preadv2"}; {@code "aio"} for a request the kernel completed
     * with an error.
     *
     * @return the call's name
     */
    public String call() {
        return call;
    }

    /**
     * The errno the call failed with.
     *
     * @return the errno, a positive number
     */
    public int errno() {
        return errno;
    }

    /**
     * The errno's symbolic name.
     *
     * @return the name, such as {@code "EAGAIN"}
     */
    public String errnoName() {
        return ErrnoExceptions.name(errno);
    }
}
