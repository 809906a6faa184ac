package dev.panaio.bench;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/** The JDK's FileChannel on {@code qd} platform threads. */
final class FileChannelEngine extends ThreadedChannelEngine {
    FileChannelEngine() {
        super("filechannel");
    }

    @Override
    protected FileChannel open(Path file, Set<OpenOption> options) throws IOException {
        return FileChannel.open(file, options);
    }

    @Override
    protected Thread.Builder threads() {
        return Thread.ofPlatform().daemon();
    }
}
