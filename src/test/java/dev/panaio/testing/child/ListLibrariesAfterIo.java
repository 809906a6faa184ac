package dev.panaio.testing.child;

import dev.panaio.AioContext;
import dev.panaio.AioFile;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * Does real I/O through panaio in a fresh JVM, then prints every mapping of
 * {@code /proc/self/maps} whose path names libaio, as {@code mapped=} lines.
 * {@code args[0]} is a directory for the file. With {@code args[1]} a library
 * name, it first loads that library itself, so that the parent can check the
 * check.
 */
public final class ListLibrariesAfterIo {
    private ListLibrariesAfterIo() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0], "payload");
        Files.write(file, new byte[8192]);
        try (Arena arena = Arena.ofConfined()) {
            if (args.length > 1) {
                loadLibrary(args[1], arena);
            }
            try (AioContext aio = AioContext.open(4);
                 AioFile channel = AioFile.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MemorySegment buffer = arena.allocate(4096);
                aio.prepareWrite(channel, buffer, 4096, 1);
                aio.prepareRead(channel, buffer, 0, 2);
                aio.submit();
                long[] total = {0};
                while (aio.inFlight() > 0) {
                    aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> total[0] += result);
                }
                System.out.println("transferred=" + total[0]);
            }
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                if (line.contains("libaio")) {
                    System.out.println("mapped=" + line);
                }
            }
        }
    }

    @SuppressWarnings("restricted")
    private static void loadLibrary(String name, Arena arena) {
        SymbolLookup.libraryLookup(name, arena);
    }
}
