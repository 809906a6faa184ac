package dev.panaio.bench;

import java.util.Locale;

/** What each engine is asked to do, over and over, for the measured window. */
public enum Workload {
    /** Reads of --bs bytes at random aligned offsets of the file. */
    RANDREAD(true, true),
    /** Writes of --bs bytes of non-zero data at random aligned offsets, inside the file (never extending it). */
    RANDWRITE(false, true),
    /** Reads of --bs bytes, each worker or request slot reading its own stretch of the file in order. */
    SEQREAD(true, false),
    /** Buffered reads from /dev/zero: no device, no page cache, so only the cost of one request is left. */
    NULLREAD(true, false),
    /**
     * Writes of --bs bytes that extend the file: one sequential stream from its end shared by every thread and
     * request slot. Each engine starts from the same size; the file is cut back to it after every engine.
     */
    APPEND(false, false),
    /**
     * A write-ahead log: records of --bs bytes written in one sequential stream over the preallocated file
     * (wrapping at its end), each counted only once it is durable.
     */
    WAL(false, false);

    /** The file nullread reads. */
    public static final String DEV_ZERO = "/dev/zero";

    private final boolean read;
    private final boolean random;

    Workload(boolean read, boolean random) {
        this.read = read;
        this.random = random;
    }

    public boolean isRead() {
        return read;
    }

    public boolean isRandom() {
        return random;
    }

    /** Whether the workload runs on a data file (false: /dev/zero). */
    public boolean usesDataFile() {
        return this != NULLREAD;
    }

    /** Whether all requests draw their offsets from one shared {@link FileCursor}. */
    public boolean sharesOneStream() {
        return this == APPEND || this == WAL;
    }

    /** The name on the command line and in the output: {@code randread}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The workload named {@code id}, or null. */
    public static Workload byId(String id) {
        for (Workload w : values()) {
            if (w.id().equals(id)) {
                return w;
            }
        }
        return null;
    }
}
