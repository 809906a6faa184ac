package dev.panaio.bench;

import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioEngine;
import dev.panaio.PanaioOpenOption;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * panaio's AsynchronousFileChannel on the shared engine: one engine thread
 * batches the submissions of all {@code qd} request slots and reaps the ring.
 * With the default options its CompletionHandlers run on the default executor,
 * as the JDK's contract asks (a thread hand-off per completion);
 * {@link #inline()} opens with {@link PanaioOpenOption#INLINE_COMPLETION}
 * instead, so the handlers run where the requests complete.
 */
final class PanaioAsyncEngine extends AsyncChannelEngine {
    private final boolean inline;

    PanaioAsyncEngine() {
        this("panaio-async", false);
    }

    private PanaioAsyncEngine(String name, boolean inline) {
        super(name);
        this.inline = inline;
    }

    /** {@code panaio-async-inline}: handlers run where the request completes (INLINE_COMPLETION). */
    static PanaioAsyncEngine inline() {
        return new PanaioAsyncEngine("panaio-async-inline", true);
    }

    @Override
    public boolean isPeer() {
        return false;
    }

    @Override
    protected AsynchronousFileChannel open(Path file, Set<OpenOption> options) throws IOException {
        if (inline) {
            Set<OpenOption> withInline = new HashSet<>(options);
            withInline.add(PanaioOpenOption.INLINE_COMPLETION);
            return AioAsynchronousFileChannel.open(file, withInline, null, AioEngine.shared());
        }
        return AioAsynchronousFileChannel.open(file, options, null, AioEngine.shared());
    }
}
