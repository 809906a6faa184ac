package dev.panaio.testing.child;

import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioEngine;
import dev.panaio.AioFileChannel;

import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Calls one of the entry points that {@link ProbeNativeAccess} leaves out
 * ({@code args[0]}: filechannel, asyncchannel, engine, engine-builder or
 * shared-engine; {@code args[1]}: an existing file) and prints either
 * {@code opened=true} (exit 0) or the message of the
 * {@link IllegalCallerException} that refused it (exit 2). Anything else
 * thrown, such as an {@link ExceptionInInitializerError}, ends the JVM with its
 * stack trace (exit 1).
 */
public final class ProbeChannelNativeAccess {
    private ProbeChannelNativeAccess() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[1]);
        try (AutoCloseable opened = switch (args[0]) {
            case "filechannel" -> AioFileChannel.open(file, StandardOpenOption.READ);
            case "asyncchannel" -> AioAsynchronousFileChannel.open(file, StandardOpenOption.READ);
            case "engine" -> AioEngine.open();
            case "engine-builder" -> AioEngine.builder().build();
            case "shared-engine" -> {
                AioEngine shared = AioEngine.shared();
                yield () -> System.out.println("sharedClosed=" + shared.isClosed());
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
