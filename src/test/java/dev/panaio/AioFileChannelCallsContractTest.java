package dev.panaio;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;

/** FileChannelCallsContract against panaio's buffered AioFileChannel. */
class AioFileChannelCallsContractTest extends FileChannelCallsContract {
    @Override
    FileChannel open(Path path, OpenOption... options) throws IOException {
        return AioFileChannel.open(path, options);
    }

    @Override
    FileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        return AioFileChannel.open(path, options, attrs);
    }
}
