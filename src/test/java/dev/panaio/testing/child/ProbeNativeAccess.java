package dev.panaio.testing.child;

import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioContext;
import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.AioFileSystemProvider;
import dev.panaio.AioFileChannel;
import dev.panaio.EventFd;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * Calls one public entry point of panaio ({@code args[0]}, see below; {@code provider}
 * is a channel opened on a path of {@code AioFileSystemProvider.wrap}) and
 * prints either {@code opened=true} (exit 0) or the message of the
 * {@link IllegalCallerException} that refused it (exit 2). Anything else
 * thrown ends the JVM with its stack trace (exit 1). The JVM flags under test
 * are the child's own.
 *
 * <p>The {@code *-null-engine} entry points pass a null engine: they exist
 * for the refusal, which must come before the null check.
 */
public final class ProbeNativeAccess {
    private ProbeNativeAccess() {
    }

    /** Every entry point, with whether it can succeed when native access is enabled. */
    public static final String[] ENTRY_POINTS = {"context", "file", "eventfd", "channel", "channel-set",
        "channel-null-engine", "async-channel", "async-channel-set", "async-channel-null-engine", "engine",
        "engine-builder", "shared-engine", "provider"};

    public static void main(String[] args) throws Exception {
        Path path = Path.of("/proc/self/status");
        try (AutoCloseable opened = switch (args[0]) {
            case "context" -> AioContext.open(1);
            case "file" -> AioFile.open(path);
            case "eventfd" -> EventFd.open();
            case "provider" -> FileChannel.open(AioFileSystemProvider.wrap(Path.of("/proc/self/status")));
            case "channel" -> AioFileChannel.open(path, StandardOpenOption.READ);
            case "channel-set" -> AioFileChannel.open(path, Set.of(StandardOpenOption.READ));
            case "channel-null-engine" -> AioFileChannel.open(path, Set.of(StandardOpenOption.READ), (AioEngine) null);
            case "async-channel" -> AioAsynchronousFileChannel.open(path, StandardOpenOption.READ);
            case "async-channel-set" -> AioAsynchronousFileChannel.open(path, Set.of(StandardOpenOption.READ), null,
                    new java.nio.file.attribute.FileAttribute<?>[0]);
            case "async-channel-null-engine" -> AioAsynchronousFileChannel.open(path,
                    Set.of(StandardOpenOption.READ), null, (AioEngine) null);
            case "engine" -> AioEngine.open();
            case "engine-builder" -> AioEngine.builder().build();
            case "shared-engine" -> {
                AioEngine shared = AioEngine.shared();
                yield () -> { }; // the shared engine is not closed by its users
            }
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
