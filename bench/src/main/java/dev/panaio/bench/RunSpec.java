package dev.panaio.bench;

import java.nio.file.Path;

/**
 * One run, as every engine must carry it out.
 *
 * @param file            the file to read or write ({@code /dev/zero} for nullread)
 * @param fileSize        bytes of the file that offsets may cover; 0 for nullread
 * @param bufferAlignment alignment of every buffer's address: a page, and at least what O_DIRECT needs
 * @param batch           most requests one io_submit carries, for the engines that batch (panaio, c-loop)
 */
public record RunSpec(Workload workload, Path file, long fileSize, int bs, int qd, boolean direct,
                      long warmupNanos, long measureNanos, int bufferAlignment, int batch) {

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
                direct ? "O_DIRECT" : "buffered", file);
    }

    /** The byte a written block holds at {@code index}: never zero, so written data cannot pass for a hole. */
    public static byte fillByte(long index) {
        return (byte) (((index * 31) & 0x7f) | 0x80);
    }
}
