package dev.panaio.internal.jfr;

import jdk.jfr.Event;

/**
 * What a channel needs of its read or write event, whichever it is: begun by
 * the channel's call, told who answered, completed once with the result.
 */
public abstract sealed class FileIoEvent extends Event permits FileReadEvent, FileWriteEvent {
    /** The page cache answered on the calling thread. */
    public static final String PAGE_CACHE = "page cache";
    /** The blocking pool ran it. */
    public static final String POOL = "pool";
    /** The calling platform thread's own pread or pwrite, which waits as long as it takes: the blocking channel's. */
    public static final String CALLER = "calling thread";
    /** Kernel AIO, through the engine. */
    public static final String KERNEL_AIO = "kernel AIO";

    FileIoEvent() {
    }

    /** Records who did the transfer: {@link #PAGE_CACHE}, {@link #CALLER}, {@link #POOL} or {@link #KERNEL_AIO}. */
    public abstract void answeredBy(String who);

    /** Ends the event and commits it if it passes the threshold: bytes transferred, or -1 at end of file. */
    public abstract void complete(long bytes);
}
