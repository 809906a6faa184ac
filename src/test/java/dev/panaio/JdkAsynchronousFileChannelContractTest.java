package dev.panaio;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/** The contract tests against the JDK's own AsynchronousFileChannel: they must pass here first. */
class JdkAsynchronousFileChannelContractTest extends AsynchronousFileChannelContract {
    @Override
    AsynchronousFileChannel open(Path path, OpenOption... options) throws IOException {
        return AsynchronousFileChannel.open(path, options);
    }
}
