package dev.panaio.testing.child;

import dev.panaio.AioContext;
import dev.panaio.AioFile;
import dev.panaio.AioFileSystemProvider;
import dev.panaio.EventFd;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Calls one public entry point of panaio ({@code args[0]}: context, file,
 * eventfd, or provider: a channel opened on a path of
 * {@code AioFileSystemProvider.wrap}) and prints either {@code opened=true}
 * (exit 0) or the message of the {@link IllegalCallerException} that refused
 * it (exit 2). Anything else thrown ends the JVM with its stack trace
 * (exit 1). The JVM flags under test are the child's own.
 */
public final class ProbeNativeAccess {
    private ProbeNativeAccess() {
    }

    public static void main(String[] args) throws Exception {
        try (AutoCloseable opened = switch (args[0]) {
            case "context" -> AioContext.open(1);
            case "file" -> AioFile.open(Path.of("/proc/self/status"));
            case "eventfd" -> EventFd.open();
            case "provider" -> FileChannel.open(AioFileSystemProvider.wrap(Path.of("/proc/self/status")));
            default -> throw new IllegalArgumentException("no entry point " + args[0]);
        }) {
            System.out.println("opened=" + (opened != null));
        } catch (IllegalCallerException e) {
            System.out.println("illegalCaller=" + e.getMessage());
            System.out.flush();
            System.exit(2);
        }
    }
}
