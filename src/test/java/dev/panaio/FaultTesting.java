package dev.panaio;

import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults while requests are in flight: close racing the owner, a file
 * truncated under its readers, interrupts and cancellation, the JVM ending,
 * and callbacks that throw. Each test states what panaio promises in that
 * case and checks the kernel never writes into a buffer after the call that
 * owned it has returned.
 *
 * <p>The tests are split by fault kind: {@link FaultCloseTest},
 * {@link FaultShrinkingFileTest}, {@link FaultInterruptTest},
 * {@link FaultJvmExitTest} and {@link FaultThrowingCallbackTest}; this class
 * holds what they share.
 */
abstract class FaultTesting {
    static final int SEED = 29;
    static final int BLOCK = 4096;
    /** How long a call may take before the test calls it hung. */
    static final int HANG_SECONDS = 10;

    @TempDir
    Path dir;

    /** Copies a segment's bytes, to compare a buffer with itself later. */
    static byte[] snapshot(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Gives a kernel that wrongly kept writing the time to do so, then checks it did not. */
    static void assertUnchangedAfterAWhile(MemorySegment buffer, byte[] atReturn, String what)
            throws InterruptedException {
        Thread.sleep(50);
        assertThat(Arrays.mismatch(snapshot(buffer), atReturn)).as("first byte of %s changed after the call returned",
                what).isEqualTo(-1);
    }
}
