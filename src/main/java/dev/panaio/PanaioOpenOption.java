package dev.panaio;

import java.nio.file.OpenOption;

/** Open options of panaio's channels, beyond the JDK's. */
public enum PanaioOpenOption implements OpenOption {
    /**
     * On a direct ({@code O_DIRECT}) channel, reject buffers that are on the
     * heap or misaligned with {@link MisalignedIoException}, instead of
     * copying them through an aligned bounce buffer. For callers who want to
     * know they are on the zero-copy path.
     */
    STRICT_ALIGNMENT
}
