package dev.panaio;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Bad input to AioEngine and its builder, vectored requests included: the cases of {@link BadInputTable}'s
 * table for this API surface, each checked as {@link BadInputTable#check} says.
 */
class BadInputEngineTest extends BadInputTable {
    static final List<Case> CASES = new ArrayList<>();

    private static void add(String name, Class<? extends Throwable> type, String fragment, Call call) {
        CASES.add(new Case(name, type, fragment, call));
    }

    static List<Case> cases() {
        return CASES;
    }

    static {
        // ---- AioEngine and its builder
        add("AioEngine.Builder.threads(int): 0", IllegalArgumentException.class, "threads must be between 1 and 64, not 0",
                x -> AioEngine.builder().threads(0));
        add("AioEngine.Builder.threads(int): 65", IllegalArgumentException.class, "not 65",
                x -> AioEngine.builder().threads(65));
        add("AioEngine.Builder.capacity(int): 0", IllegalArgumentException.class, "capacity must be between 1 and",
                x -> AioEngine.builder().capacity(0));
        add("AioEngine.Builder.capacity(int): -1", IllegalArgumentException.class, "not -1",
                x -> AioEngine.builder().capacity(-1));
        add("AioEngine.Builder.capacity(int): MAX_CAPACITY + 1", IllegalArgumentException.class, "not 1048577",
                x -> AioEngine.builder().capacity(AioContext.MAX_CAPACITY + 1));
        add("AioEngine.Builder.maxPending(int): 0", IllegalArgumentException.class, "maxPending must be between 1",
                x -> AioEngine.builder().maxPending(0));
        add("AioEngine.Builder.maxPending(int): Integer.MIN_VALUE", IllegalArgumentException.class, "maxPending",
                x -> AioEngine.builder().maxPending(Integer.MIN_VALUE));
        add("AioEngine.Builder.blockingThreads(int): 0", IllegalArgumentException.class, "blockingThreads must be between",
                x -> AioEngine.builder().blockingThreads(0));
        add("AioEngine.Builder.blockingThreads(int): 1025", IllegalArgumentException.class, "not 1025",
                x -> AioEngine.builder().blockingThreads(1025));
        add("AioEngine.Builder.maxRetainedBufferBytes(long): -1", IllegalArgumentException.class,
                "maxRetainedBufferBytes must not be negative", x -> AioEngine.builder().maxRetainedBufferBytes(-1));
        if (MAX_AIO_NR < AioContext.MAX_CAPACITY) {
            add("AioEngine.Builder.build(): capacity beyond fs.aio-max-nr", AioLimitException.class, "fs.aio-max-nr",
                    x -> AioEngine.builder().capacity(AioContext.MAX_CAPACITY).build());
        }
        String engineRead = "AioEngine.read(AioFile,MemorySegment,long)";
        String engineWrite = "AioEngine.write(AioFile,MemorySegment,long)";
        add(engineRead + ": null file", NullPointerException.class, "file",
                x -> x.engine.read(null, x.segment(512), 0));
        add(engineRead + ": null buffer", NullPointerException.class, "buffer",
                x -> x.engine.read(x.readOnly, null, 0));
        add(engineRead + ": heap segment", IllegalArgumentException.class, "not a heap segment",
                x -> x.engine.read(x.readOnly, x.heap(512), 0));
        add(engineRead + ": read-only segment", IllegalArgumentException.class, "read-only",
                x -> x.engine.read(x.readOnly, x.segment(512).asReadOnly(), 0));
        add(engineRead + ": closed arena", IllegalStateException.class, "arena is already closed",
                x -> x.engine.read(x.readOnly, x.dead(512), 0));
        add(engineRead + ": position -1", IllegalArgumentException.class, "must not be negative",
                x -> x.engine.read(x.readOnly, x.segment(512), -1));
        add(engineRead + ": position + length overflows", IllegalArgumentException.class, "overflows",
                x -> x.engine.read(x.readOnly, x.segment(512), Long.MAX_VALUE - 1));
        add(engineRead + ": more than the kernel's MAX_RW_COUNT", IllegalArgumentException.class,
                "more than the kernel transfers in one call", x -> x.engine.read(x.readOnly, x.huge(), 0));
        add("AioContext.prepareReadVectored(AioFile,MemorySegment[],long,long,RequestOptions): more than "
                + "MAX_RW_COUNT in all",
                IllegalArgumentException.class, "more than the kernel transfers in one call", x -> {
                    MemorySegment half = x.huge().asSlice(0, MAX_RW / 2 + 4096);
                    x.context.prepareReadVectored(x.readOnly, new MemorySegment[] {half, half}, 0, 1,
                            RequestOptions.NONE);
                    return null;
                });
        add(engineRead + ": file opened write-only", IllegalArgumentException.class, "not opened for reading",
                x -> x.engine.read(x.writeOnly, x.segment(512), 0));
        add(engineRead + ": closed file", IllegalStateException.class, "is closed",
                x -> x.engine.read(x.closedFile, x.segment(512), 0));
        add(engineRead + ": direct, misaligned position", MisalignedIoException.class, "file position",
                x -> x.engine.read(x.direct, x.segment(4096), 1));
        add(engineRead + ": direct, misaligned buffer address", MisalignedIoException.class, "buffer address",
                x -> x.engine.read(x.direct, x.segment(8192).asSlice(8, 4096), 0));
        add(engineRead + ": closed engine", AsynchronousCloseException.class, null,
                x -> x.closedEngine.read(x.readOnly, x.segment(512), 0));
        add(engineWrite + ": heap segment", IllegalArgumentException.class, "not a heap segment",
                x -> x.engine.write(x.writeOnly, x.heap(512), 0));
        add(engineWrite + ": closed arena", IllegalStateException.class, "arena is already closed",
                x -> x.engine.write(x.writeOnly, x.dead(512), 0));
        add(engineWrite + ": file opened read-only", IllegalArgumentException.class, "not opened for writing",
                x -> x.engine.write(x.readOnly, x.segment(512), 0));
        add(engineWrite + ": direct, misaligned length", MisalignedIoException.class, "length",
                x -> x.engine.write(x.direct, x.segment(4096).asSlice(0, 100), 0));
        String engineReadWith = "AioEngine.read(AioFile,MemorySegment,long,RequestOptions)";
        String engineWriteWith = "AioEngine.write(AioFile,MemorySegment,long,RequestOptions)";
        RequestOptions dsync = RequestOptions.NONE.withFlags(RwFlag.DSYNC);
        add(engineReadWith + ": heap segment", IllegalArgumentException.class, "not a heap segment",
                x -> x.engine.read(x.readOnly, x.heap(512), 0, dsync));
        add(engineReadWith + ": closed arena", IllegalStateException.class, "arena is already closed",
                x -> x.engine.read(x.readOnly, x.dead(512), 0, dsync));
        add(engineReadWith + ": null options", NullPointerException.class, "options",
                x -> x.engine.read(x.readOnly, x.segment(512), 0, null));
        add(engineReadWith + ": options with an eventfd", IllegalArgumentException.class,
                "the engine signals its own eventfd",
                x -> x.engine.read(x.readOnly, x.segment(512), 0, RequestOptions.NONE.withNotify(x.eventFd)));
        add(engineWriteWith + ": heap segment", IllegalArgumentException.class, "not a heap segment",
                x -> x.engine.write(x.writeOnly, x.heap(512), 0, dsync));
        add(engineWriteWith + ": closed arena", IllegalStateException.class, "arena is already closed",
                x -> x.engine.write(x.writeOnly, x.dead(512), 0, dsync));
        add(engineWriteWith + ": options with an eventfd", IllegalArgumentException.class,
                "the engine signals its own eventfd",
                x -> x.engine.write(x.writeOnly, x.segment(512), 0, RequestOptions.NONE.withNotify(x.eventFd)));
        // ---- AioEngine vectored
        for (boolean reading : new boolean[] {true, false}) {
            for (boolean withOptions : new boolean[] {false, true}) {
                String name = "AioEngine." + (reading ? "readVectored" : "writeVectored") + "(AioFile,MemorySegment[],long"
                        + (withOptions ? ",RequestOptions)" : ")");
                add(name + ": heap segment", IllegalArgumentException.class, "not a heap segment",
                        x -> engineVectored(x.engine, reading, file(x, reading),
                                new MemorySegment[] {x.segment(512), x.heap(512)}, 0, withOptions));
                add(name + ": closed arena", IllegalStateException.class, "arena is already closed",
                        x -> engineVectored(x.engine, reading, file(x, reading),
                                new MemorySegment[] {x.segment(512), x.dead(512)}, 0, withOptions));
                add(name + ": no buffers", IllegalArgumentException.class, "1 to 1024 buffers (UIO_MAXIOV), not 0",
                        x -> engineVectored(x.engine, reading, file(x, reading), new MemorySegment[0], 0,
                                withOptions));
                add(name + ": 1025 buffers", IllegalArgumentException.class, "not 1025",
                        x -> engineVectored(x.engine, reading, file(x, reading), filled(1025, x.segment(512)), 0,
                                withOptions));
                add(name + ": null array", NullPointerException.class, "buffers",
                        x -> engineVectored(x.engine, reading, file(x, reading), null, 0, withOptions));
                add(name + ": direct, misaligned buffer length", MisalignedIoException.class,
                        "buffer length to be a multiple of",
                        x -> engineVectored(x.engine, reading, x.direct,
                                new MemorySegment[] {x.segment(4096).asSlice(0, 100)}, 0, withOptions));
                add(name + ": direct, misaligned buffer address", MisalignedIoException.class,
                        "buffer address to be a multiple of",
                        x -> engineVectored(x.engine, reading, x.direct,
                                new MemorySegment[] {x.segment(8192).asSlice(8, 512)}, 0, withOptions));
                add(name + ": direct, misaligned position", MisalignedIoException.class, "file position",
                        x -> engineVectored(x.engine, reading, x.direct, new MemorySegment[] {x.segment(4096)}, 1,
                                withOptions));
                add(name + ": position -1", IllegalArgumentException.class, "must not be negative",
                        x -> engineVectored(x.engine, reading, file(x, reading),
                                new MemorySegment[] {x.segment(512)}, -1, withOptions));
                add(name + ": closed engine", AsynchronousCloseException.class, null,
                        x -> engineVectored(x.closedEngine, reading, file(x, reading),
                                new MemorySegment[] {x.segment(512)}, 0, withOptions));
                add(name + ": closed file", IllegalStateException.class, "is closed",
                        x -> engineVectored(x.engine, reading, x.closedFile, new MemorySegment[] {x.segment(512)}, 0,
                                withOptions));
                add(name + (reading ? ": file opened write-only" : ": file opened read-only"),
                        IllegalArgumentException.class, reading ? "not opened for reading" : "not opened for writing",
                        x -> engineVectored(x.engine, reading, reading ? x.writeOnly : x.readOnly,
                                new MemorySegment[] {x.segment(512)}, 0, withOptions));
                if (withOptions) {
                    add(name + ": options with an eventfd", IllegalArgumentException.class,
                            "the engine signals its own eventfd",
                            x -> (reading ? x.engine.readVectored(x.readOnly, new MemorySegment[] {x.segment(512)}, 0,
                                    RequestOptions.NONE.withNotify(x.eventFd))
                                    : x.engine.writeVectored(x.writeOnly, new MemorySegment[] {x.segment(512)}, 0,
                                    RequestOptions.NONE.withNotify(x.eventFd))));
                }
            }
        }
        for (String sync : new String[] {"fsync", "fdatasync"}) {
            boolean fsync = sync.equals("fsync");
            add("AioEngine." + sync + "(AioFile): null file", NullPointerException.class, "file",
                    x -> fsync ? x.engine.fsync(null) : x.engine.fdatasync(null));
            // Checked at once, as read and write are, not failed later on the engine thread as if the file had
            // been closed while the request was queued.
            add("AioEngine." + sync + "(AioFile): closed file", IllegalStateException.class, "is closed",
                    x -> fsync ? x.engine.fsync(x.closedFile) : x.engine.fdatasync(x.closedFile));
            add("AioEngine." + sync + "(AioFile): closed engine", AsynchronousCloseException.class, null,
                    x -> fsync ? x.closedEngine.fsync(x.readOnly) : x.closedEngine.fdatasync(x.readOnly));
        }
        String enginePoll = "AioEngine.poll(Pollable,int)";
        add(enginePoll + ": null target", NullPointerException.class, "target", x -> x.engine.poll(null, 1));
        add(enginePoll + ": no events", IllegalArgumentException.class, "non-empty mask of 16 bits",
                x -> x.engine.poll(x.eventFd, 0));
        add(enginePoll + ": events wider than 16 bits", IllegalArgumentException.class, "not 0x10000",
                x -> x.engine.poll(x.eventFd, 0x10000));
        add(enginePoll + ": closed eventfd", IllegalStateException.class, "closed",
                x -> x.engine.poll(x.closedEventFd, 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldRejectWithATypedExceptionAndAMessageToActOn(Case c) throws Exception {
        check(c);
    }
}
