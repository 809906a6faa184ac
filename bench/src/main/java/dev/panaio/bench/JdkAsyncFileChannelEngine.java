package dev.panaio.bench;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/** The JDK's AsynchronousFileChannel with its default thread pool: on Linux, blocking preads on pool threads. */
final class JdkAsyncFileChannelEngine extends AsyncChannelEngine {
    JdkAsyncFileChannelEngine() {
        super("jdk-afc");
    }

    @Override
    protected AsynchronousFileChannel open(Path file, Set<OpenOption> options) throws IOException {
        return AsynchronousFileChannel.open(file, options, null);
    }
}
