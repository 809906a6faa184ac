package dev.panaio.bench;

import dev.panaio.AioEngine;
import dev.panaio.AioFileChannel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/** panaio's FileChannel on {@code qd} virtual threads: each parks (unmounted) while its read is in the kernel. */
final class PanaioVirtualThreadEngine extends ThreadedChannelEngine {
    PanaioVirtualThreadEngine() {
        super("panaio-vthreads");
    }

    @Override
    public boolean isPeer() {
        return false;
    }

    @Override
    protected FileChannel open(Path file, Set<OpenOption> options) throws IOException {
        return AioFileChannel.open(file, options, AioEngine.shared());
    }

    @Override
    protected Thread.Builder threads() {
        return Thread.ofVirtual();
    }
}
