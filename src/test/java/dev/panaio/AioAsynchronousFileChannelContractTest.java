package dev.panaio;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/** The AsynchronousFileChannel contract tests against panaio's buffered AioAsynchronousFileChannel. */
class AioAsynchronousFileChannelContractTest extends AsynchronousFileChannelContract {
    @Override
    AsynchronousFileChannel open(Path path, OpenOption... options) throws IOException {
        return AioAsynchronousFileChannel.open(path, options);
    }

    @Override
    AsynchronousFileChannel open(Path path, Set<? extends OpenOption> options, ExecutorService executor)
            throws IOException {
        return AioAsynchronousFileChannel.open(path, options, executor);
    }
}
