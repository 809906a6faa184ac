package dev.panaio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Threshold;

import java.nio.file.Path;

/**
 * A channel read, as the JDK's {@code jdk.FileRead} (the same field names and
 * its 20 ms default threshold), plus what panaio knows: direct or buffered,
 * and who answered. It begins in the channel's read call and is committed
 * where the result is settled: on the calling thread for a blocking read,
 * where the completion runs for an asynchronous one.
 */
@Name("dev.panaio.FileRead")
@Label("File Read (panaio)")
@Category({"Java Application", "panaio"})
@Description("Reading data from a file through a panaio channel")
@Threshold("20 ms")
public final class FileReadEvent extends FileIoEvent {
    /** Any instance answers {@link #isEnabled()} for the class: no allocation to ask. */
    private static final FileReadEvent PROBE = new FileReadEvent();

    /** Whether a recording has the event enabled; calling it also loads and registers the class early. */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }

    @Label("Path")
    @Description("Full path of the file, or N/A if the file descriptor is not associated with a path")
    public String path;

    @Label("Bytes Read")
    @Description("Number of bytes read from the file (possibly 0)")
    @DataAmount
    public long bytesRead;

    @Label("End of File")
    @Description("If end of file was reached")
    public boolean endOfFile;

    @Label("Direct")
    @Description("Whether the file was opened with O_DIRECT (bypassing the page cache)")
    public boolean direct;

    @Label("Answered By")
    @Description("Who did the read: the page cache inline, the calling thread itself, the blocking pool, or kernel AIO")
    public String answeredBy;

    /** An event begun now, or null when the event is not enabled (one branch). */
    public static FileReadEvent beginIfEnabled(Path path, boolean direct) {
        if (!PROBE.isEnabled()) {
            return null;
        }
        FileReadEvent event = new FileReadEvent();
        event.path = path != null ? path.toString() : "N/A";
        event.direct = direct;
        event.begin();
        return event;
    }

    @Override
    public void answeredBy(String who) {
        answeredBy = who;
    }

    @Override
    public void complete(long bytes) {
        end();
        if (shouldCommit()) {
            bytesRead = Math.max(0, bytes);
            endOfFile = bytes < 0;
            commit();
        }
    }
}
