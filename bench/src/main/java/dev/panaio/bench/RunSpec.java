package dev.panaio.bench;

import java.nio.file.Path;

/**
 * One run, as every engine must carry it out.
 *
 * @param file            the file to read or write ({@code /dev/zero} for nullread)
 * @param fileSize        bytes of the file that offsets may cover; 0 for nullread
 * @param bufferAlignment alignment of every buffer's address: a page, and at least what O_DIRECT needs
 * @param batch           most requests one io_submit carries, for the engines that batch (panaio, ffm-loop,
 *                        c-loop, c-handoff)
 * @param uncached        buffered reads that must miss: the page cache is emptied of the file before and during
 *                        each engine's run ({@link PageCacheWatch})
 * @param cursor          the one stream of offsets of append and wal, else null
 * @param stallTrace      the asynchronous channels' engines split each submitting call's time into run-queue
 *                        wait, CPU time and the rest ({@link StallTrace})
 */
public record RunSpec(Workload workload, Path file, long fileSize, int bs, int qd, boolean direct,
                      long warmupNanos, long measureNanos, int bufferAlignment, int batch, boolean uncached,
                      FileCursor cursor, boolean stallTrace) {

    /** A run of a workload that has no shared stream and keeps the page cache as it is. */
    public RunSpec(Workload workload, Path file, long fileSize, int bs, int qd, boolean direct,
                   long warmupNanos, long measureNanos, int bufferAlignment, int batch) {
        this(workload, file, fileSize, bs, qd, direct, warmupNanos, measureNanos, bufferAlignment, batch, false,
                null, false);
    }

    /** The offsets of stream {@code index} of {@code qd}: a request slot, a thread. */
    public OffsetStream offsets(int index) {
        return new OffsetStream(this, index);
    }

    /** Whether the requests are reads. */
    public boolean reads() {
        return workload.isRead();
    }

    /** A line saying what runs, for progress and table headers. */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "%s bs=%d qd=%d %s on %s", workload.id(), bs, qd,
                direct ? "O_DIRECT" : uncached ? "buffered, uncached" : "buffered", file);
    }

    /** The byte a written block holds at {@code index}: never zero, so written data cannot pass for a hole. */
    public static byte fillByte(long index) {
        return (byte) (((index * 31) & 0x7f) | 0x80);
    }
}
