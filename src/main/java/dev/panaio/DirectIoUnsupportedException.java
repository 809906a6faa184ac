package dev.panaio;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file was opened for direct I/O ({@code O_DIRECT}) on a filesystem that
 * does not support it; the message names the filesystem type. A caller may
 * fall back to buffered I/O.
 */
public final class DirectIoUnsupportedException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The type of the filesystem that refused. */
    private final String filesystemType;

    DirectIoUnsupportedException(Path path, String filesystemType) {
        super("cannot open " + path + " for direct I/O: its filesystem (" + filesystemType + ") does not support "
                + "O_DIRECT (open(2) gave EINVAL); open it without ExtendedOpenOption.DIRECT to use the page cache");
        this.filesystemType = filesystemType;
    }

    /**
     * The type of the filesystem that refused.
     *
     * @return the type, as in /proc/self/mountinfo ("ext4", "fuse.sshfs")
     */
    public String filesystemType() {
        return filesystemType;
    }
}
