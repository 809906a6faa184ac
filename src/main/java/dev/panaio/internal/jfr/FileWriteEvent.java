package dev.panaio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Threshold;

import java.nio.file.Path;

/** A channel write, as the JDK's {@code jdk.FileWrite}, plus direct or buffered and who answered: see {@link FileReadEvent}. */
@Name("dev.panaio.FileWrite")
@Label("File Write (panaio)")
@Category({"Java Application", "panaio"})
@Description("Writing data to a file through a panaio channel")
@Threshold("20 ms")
public final class FileWriteEvent extends FileIoEvent {
    private static final FileWriteEvent PROBE = new FileWriteEvent();

    /** Whether a recording has the event enabled; calling it also loads and registers the class early. */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }

    @Label("Path")
    @Description("Full path of the file, or N/A if the file descriptor is not associated with a path")
    public String path;

    @Label("Bytes Written")
    @Description("Number of bytes written to the file")
    @DataAmount
    public long bytesWritten;

    @Label("Direct")
    @Description("Whether the file was opened with O_DIRECT (bypassing the page cache)")
    public boolean direct;

    @Label("Answered By")
    @Description("Who did the write: the page cache inline, the calling thread itself, the blocking pool, or kernel AIO")
    public String answeredBy;

    /** An event begun now, or null when the event is not enabled (one branch). */
    public static FileWriteEvent beginIfEnabled(Path path, boolean direct) {
        if (!PROBE.isEnabled()) {
            return null;
        }
        FileWriteEvent event = new FileWriteEvent();
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
            bytesWritten = Math.max(0, bytes);
            commit();
        }
    }
}
