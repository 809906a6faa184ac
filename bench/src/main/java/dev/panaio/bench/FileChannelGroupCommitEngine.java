package dev.panaio.bench;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/** wal on the JDK's FileChannel: {@code qd} platform threads write records and share one force per batch. */
final class FileChannelGroupCommitEngine extends ThreadedChannelEngine {
    FileChannelGroupCommitEngine() {
        super("filechannel-group", true);
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
