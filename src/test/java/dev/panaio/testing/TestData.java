package dev.panaio.testing;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Files with content that says where it came from: byte i of a file is a function of i and a seed. */
public final class TestData {
    private TestData() {
    }

    /** The byte expected at {@code position} of a file written by {@link #writeFile}. */
    public static byte byteAt(long position, int seed) {
        long x = position * 0x9E3779B97F4A7C15L + seed;
        x ^= x >>> 29;
        return (byte) (x | 1); // never 0, so a read that left a buffer zeroed is visible
    }

    /** Creates {@code file} with {@code size} bytes of patterned content. */
    public static Path writeFile(Path file, long size, int seed) throws IOException {
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            for (long done = 0; done < size; ) {
                int n = (int) Math.min(chunk.length, size - done);
                for (int i = 0; i < n; i++) {
                    chunk[i] = byteAt(done + i, seed);
                }
                out.write(chunk, 0, n);
                done += n;
            }
        }
        return file;
    }

    /** Fills {@code segment} with the pattern for file bytes from {@code position}. */
    public static void fill(MemorySegment segment, long position, int seed) {
        for (long i = 0; i < segment.byteSize(); i++) {
            segment.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, byteAt(position + i, seed));
        }
    }

    /** The index of the first byte of {@code segment} that is not the pattern from {@code position}, or -1. */
    public static long firstMismatch(MemorySegment segment, long position, int seed) {
        for (long i = 0; i < segment.byteSize(); i++) {
            if (segment.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != byteAt(position + i, seed)) {
                return i;
            }
        }
        return -1;
    }

    /** {@code /proc/sys/fs/aio-nr}: AIO events charged to open contexts, system-wide. */
    public static long aioNr() throws IOException {
        // Files.readString would see only the first byte of a sysctl file.
        return Long.parseLong(Files.readAllLines(Path.of("/proc/sys/fs/aio-nr")).get(0).trim());
    }
}
