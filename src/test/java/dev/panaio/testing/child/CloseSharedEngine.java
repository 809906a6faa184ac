package dev.panaio.testing.child;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioEngine;
import dev.panaio.AioFileChannel;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;

/**
 * Tries {@code try (AioEngine e = AioEngine.shared()) {}} in a JVM of its own
 * (it would otherwise break every later test), then reads {@code args[0]}, an
 * O_DIRECT-capable file of at least 4096 bytes, through channels opened
 * afterwards on the shared engine. Prints {@code closeThrew=}, {@code sharedClosed=},
 * {@code read=} and {@code asyncRead=} (a count, or the exception).
 */
public final class CloseSharedEngine {
    private CloseSharedEngine() {
    }

    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        String threw = "nothing";
        try (AioEngine engine = AioEngine.shared()) {
            System.out.println("opened=" + !engine.isClosed());
        } catch (Throwable t) {
            threw = t.getClass().getName();
        }
        System.out.println("closeThrew=" + threw);
        System.out.println("sharedClosed=" + AioEngine.shared().isClosed());
        try (AioFileChannel channel = AioFileChannel.open(file, READ, ExtendedOpenOption.DIRECT)) {
            System.out.println("read=" + channel.read(block(), 0));
        } catch (Throwable t) {
            System.out.println("read=" + t);
        }
        try (AioAsynchronousFileChannel channel = AioAsynchronousFileChannel.open(file, READ,
                ExtendedOpenOption.DIRECT)) {
            System.out.println("asyncRead=" + channel.read(block(), 0)
                    .get(10, TimeUnit.SECONDS));
        } catch (Throwable t) {
            System.out.println("asyncRead=" + t);
        }
        System.out.flush();
        System.exit(0);
    }

    /**
     * 4096 aligned bytes. An aligned slice of 8192 is 8192 long when the
     * allocation happens to be aligned already, 4096 otherwise: limited, the
     * read's count does not depend on where the allocator put it.
     */
    private static ByteBuffer block() {
        return ByteBuffer.allocateDirect(8192).alignedSlice(4096).limit(4096);
    }
}
