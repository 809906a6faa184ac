package dev.panaio.testing.child;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioContext;
import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.EventFd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;

/**
 * Starts thousands of direct reads and ends the JVM while they are in
 * flight, without closing anything. Prints {@code submitted=N} first.
 *
 * <p>Arguments: the file (at least 16 MiB), the number of reads, and how to
 * end:
 * <ul>
 *   <li>{@code exit}: System.exit(42) from main, through an {@link AioEngine};</li>
 *   <li>{@code exit-in-callback}: System.exit(43) from the completion stage
 *       of a poll signalled after the reads, on an engine thread;</li>
 *   <li>{@code return}: main returns (engine threads are daemons);</li>
 *   <li>{@code context}: System.exit(44) with reads submitted through an
 *       {@link AioContext} that nobody reaps.</li>
 * </ul>
 */
public final class ExitWithIoInFlight {
    private ExitWithIoInFlight() {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int reads = Integer.parseInt(args[1]);
        String mode = args[2];
        AioFile file = AioFile.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
        MemorySegment buffers = Arena.ofShared().allocate(reads * 4096L, 4096);
        if (mode.equals("context")) {
            AioContext aio = AioContext.open(reads);
            for (int i = 0; i < reads; i++) {
                aio.prepareRead(file, buffers.asSlice(i * 4096L, 4096), (i % 4096) * 4096L, i);
            }
            aio.submit();
            // System.nanoTime is CLOCK_MONOTONIC, one clock for every process: the parent times the exit from here.
            System.out.println("submitted=" + reads + " atNanos=" + System.nanoTime());
            System.out.flush();
            System.exit(44);
        }
        AioEngine engine = AioEngine.builder().threads(2).capacity(256).build();
        // A poll completes only when signalled, so its stage is surely attached first and runs on an engine thread.
        EventFd signal = EventFd.open();
        CompletableFuture<Integer> poll = engine.poll(signal, 1);
        if (mode.equals("exit-in-callback")) {
            poll.thenRun(() -> System.exit(43));
        }
        for (int i = 0; i < reads; i++) {
            engine.read(file, buffers.asSlice(i * 4096L, 4096), (i % 4096) * 4096L);
        }
        System.out.println("submitted=" + reads + " outstanding=" + engine.outstanding() + " atNanos="
                + System.nanoTime());
        System.out.flush();
        switch (mode) {
            case "exit" -> System.exit(42);
            case "return" -> {
                // main ends with the engine open and reads in flight
            }
            case "exit-in-callback" -> {
                signal.write(1);
                Thread.sleep(60_000); // the callback ends the JVM long before
            }
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
    }
}
