package dev.panaio.bench;

import java.util.Locale;

/**
 * Dirty pages that an earlier run left (a buffered write workload dirties
 * gigabytes: about 1 GiB of the data file for random writes at queue depth 32
 * on this project's machine) are written back by the kernel once they are 30 s
 * old ({@code vm.dirty_expire_centisecs}), on the same disk. A run that starts
 * meanwhile shares the disk with that writeback: O_DIRECT reads at queue
 * depth 256 made 14,633 IOPS while such pages fell due, and 66,308 three
 * minutes later (docs/BENCHMARKS.md, eleventh run). So before each engine's
 * run the harness writes them all ({@code sync}) when more than
 * {@value #THRESHOLD_MIB} MiB are dirty or under writeback, and says so. An
 * engine's own writes, and the throttling they meet, are then all its own.
 */
final class Writeback {
    private Writeback() {
    }

    /** Less than this is left alone: the kernel writes it within a few seconds anyway. */
    static final long THRESHOLD_MIB = 64;

    /** Writes the machine's dirty pages first if there are many; {@code engine} names who waits, in the message. */
    static void settle(String engine) {
        long before = pendingKib();
        if (before < THRESHOLD_MIB * 1024) {
            return;
        }
        long start = System.nanoTime();
        Libc.sync();
        Progress.say(String.format(Locale.ROOT,
                "  %s: first wrote %.0f MiB of dirty pages an earlier run left (sync, %.1f s), so that their writeback "
                        + "does not share the disk with this run", engine, before / 1024.0,
                (System.nanoTime() - start) / 1e9));
    }

    /** Dirty plus under-writeback memory, in KiB, from /proc/meminfo; 0 if it cannot be read. */
    static long pendingKib() {
        return Math.max(0, DirtyLimits.meminfoKib("Dirty:", "Writeback:"));
    }
}
