package dev.panaio.bench;

import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioEngine;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * panaio's AsynchronousFileChannel on the shared engine: one engine thread
 * batches the submissions of all {@code qd} request slots and reaps the ring.
 */
final class PanaioAsyncEngine extends AsyncChannelEngine {
    PanaioAsyncEngine() {
        super("panaio-async");
    }

    @Override
    public boolean isPeer() {
        return false;
    }

    @Override
    protected AsynchronousFileChannel open(Path file, Set<OpenOption> options) throws IOException {
        return AioAsynchronousFileChannel.open(file, options, null, AioEngine.shared());
    }
}
