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
    STRICT_ALIGNMENT,

    /**
     * On an {@link AioAsynchronousFileChannel}, run CompletionHandlers where
     * the request completes (an engine thread, a pool thread, or the thread
     * that started the request when the page cache answered at once) instead
     * of on the channel's executor. It saves a thread hand-off per request;
     * a handler must then never block, and may run before the call that
     * started it returns. Chains of handlers that start the next request run
     * as a loop, never as a growing stack. Ignored by {@link AioFileChannel}.
     */
    INLINE_COMPLETION
}
