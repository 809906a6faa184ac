package dev.panaio;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/** The AsynchronousFileChannel contract tests against panaio's buffered AioAsynchronousFileChannel. */
class AioAsynchronousFileChannelContractTest extends AsynchronousFileChannelContract {
    @Override
    AsynchronousFileChannel open(Path path, OpenOption... options) throws IOException {
        return AioAsynchronousFileChannel.open(path, options);
    }
}
