package dev.panaio;

import java.nio.file.Path;

/**
 * The file's filesystem does not support an operation (EOPNOTSUPP): fallocate
 * on a filesystem without preallocation or hole punching, for example. The
 * message names the filesystem type, so that a caller can fall back, such as
 * writing zeros instead of preallocating.
 */
public final class FileOperationUnsupportedException extends AioException {
    private static final long serialVersionUID = 1L;

    /** The type of the filesystem that refused. */
    private final String filesystemType;

    FileOperationUnsupportedException(String call, String args, Path path, String filesystemType, int errno,
                                      String errnoDescription) {
        super(call + "(" + args + ") failed: " + errnoDescription + ": the filesystem of " + path + " ("
                + filesystemType + ") does not support it", call, errno);
        this.filesystemType = filesystemType;
    }

    /**
     * The type of the filesystem that refused.
     *
     * @return the type as in /proc/self/mountinfo ("tmpfs", "proc")
     */
    public String filesystemType() {
        return filesystemType;
    }
}
