package dev.panaio;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Bad input to AioContext: opening, preparing reads, writes, vectored requests, syncs and polls, submitting, reaping, awaiting and cancelling: the cases of {@link BadInputTable}'s
 * table for this API surface, each checked as {@link BadInputTable#check} says.
 */
class BadInputContextTest extends BadInputTable {
    static final List<Case> CASES = new ArrayList<>();

    private static void add(String name, Class<? extends Throwable> type, String fragment, Call call) {
        CASES.add(new Case(name, type, fragment, call));
    }

    static List<Case> cases() {
        return CASES;
    }

    static {
        // ---- AioContext.open
        String open = "AioContext.open(int)";
        add(open + ": 0", IllegalArgumentException.class, "capacity must be between 1 and 1048576, not 0",
                x -> AioContext.open(0));
        add(open + ": -1", IllegalArgumentException.class, "not -1", x -> AioContext.open(-1));
        add(open + ": MAX_CAPACITY + 1", IllegalArgumentException.class, "not 1048577",
                x -> AioContext.open(AioContext.MAX_CAPACITY + 1));
        add(open + ": Integer.MIN_VALUE", IllegalArgumentException.class, "capacity must be between",
                x -> AioContext.open(Integer.MIN_VALUE));
        if (MAX_AIO_NR < AioContext.MAX_CAPACITY) {
            add(open + ": MAX_CAPACITY, beyond fs.aio-max-nr", AioLimitException.class, "sysctl -w fs.aio-max-nr=",
                    x -> AioContext.open(AioContext.MAX_CAPACITY));
        }

        // ---- AioContext.prepareRead / prepareWrite, MemorySegment
        for (boolean withOptions : new boolean[] {false, true}) {
            String read = "AioContext.prepareRead(AioFile,MemorySegment,long,long" + (withOptions ? ",RequestOptions)" : ")");
            String write = "AioContext.prepareWrite(AioFile,MemorySegment,long,long" + (withOptions ? ",RequestOptions)" : ")");
            add(read + ": heap segment", IllegalArgumentException.class, "needs native memory, not a heap segment",
                    x -> prepareRead(x, x.readOnly, x.heap(512), 0, withOptions));
            add(read + ": closed arena", IllegalStateException.class, "arena is already closed",
                    x -> prepareRead(x, x.readOnly, x.dead(512), 0, withOptions));
            add(write + ": heap segment", IllegalArgumentException.class, "not a heap segment",
                    x -> prepareWrite(x, x.writeOnly, x.heap(512), 0, withOptions));
            add(write + ": closed arena", IllegalStateException.class, "arena is already closed",
                    x -> prepareWrite(x, x.writeOnly, x.dead(512), 0, withOptions));
        }
        String read = "AioContext.prepareRead(AioFile,MemorySegment,long,long,RequestOptions)";
        add(read + ": null file", NullPointerException.class, "file",
                x -> { x.context.prepareRead(null, x.segment(512), 0, 1, RequestOptions.NONE); return null; });
        add(read + ": null buffer", NullPointerException.class, "buffer",
                x -> { x.context.prepareRead(x.readOnly, (MemorySegment) null, 0, 1, RequestOptions.NONE); return null; });
        add(read + ": null options", NullPointerException.class, "options",
                x -> { x.context.prepareRead(x.readOnly, x.segment(512), 0, 1, null); return null; });
        add(read + ": read-only segment", IllegalArgumentException.class, "cannot read into a read-only segment",
                x -> { x.context.prepareRead(x.readOnly, x.segment(512).asReadOnly(), 0, 1); return null; });
        add(read + ": position -1", IllegalArgumentException.class, "position must not be negative: -1",
                x -> { x.context.prepareRead(x.readOnly, x.segment(512), -1, 1); return null; });
        add(read + ": position Long.MIN_VALUE", IllegalArgumentException.class, "must not be negative",
                x -> { x.context.prepareRead(x.readOnly, x.segment(512), Long.MIN_VALUE, 1); return null; });
        add(read + ": position + length overflows", IllegalArgumentException.class, "overflows a long",
                x -> { x.context.prepareRead(x.readOnly, x.segment(512), Long.MAX_VALUE - 100, 1); return null; });
        add(read + ": more than the kernel's MAX_RW_COUNT", IllegalArgumentException.class,
                "more than the kernel transfers in one call", x -> {
                    x.context.prepareRead(x.readOnly, x.huge().asSlice(0, MAX_RW + 4096), 0, 1);
                    return null;
                });
        add(read + ": file opened write-only", IllegalArgumentException.class, "was not opened for reading",
                x -> { x.context.prepareRead(x.writeOnly, x.segment(512), 0, 1); return null; });
        add(read + ": closed file", IllegalStateException.class, "is closed",
                x -> { x.context.prepareRead(x.closedFile, x.segment(512), 0, 1); return null; });
        add(read + ": closed context", IllegalStateException.class, "AioContext is closed",
                x -> { x.closedContext.prepareRead(x.readOnly, x.segment(512), 0, 1); return null; });
        add(read + ": direct, misaligned buffer address", MisalignedIoException.class,
                "buffer address to be a multiple of",
                x -> { x.context.prepareRead(x.direct, x.segment(2 * 4096).asSlice(1, 4096), 0, 1); return null; });
        add(read + ": direct, misaligned position", MisalignedIoException.class, "file position to be a multiple of",
                x -> { x.context.prepareRead(x.direct, x.segment(4096), x.offsetAlign / 2, 1); return null; });
        add(read + ": direct, misaligned length", MisalignedIoException.class, "length to be a multiple of",
                x -> { x.context.prepareRead(x.direct, x.segment(4096).asSlice(0, x.offsetAlign + 1), 0, 1);
                    return null; });
        add(read + ": notify on a closed eventfd", IllegalStateException.class, "closed",
                x -> { x.context.prepareRead(x.readOnly, x.segment(512), 0, 1,
                        RequestOptions.NONE.withNotify(x.closedEventFd)); return null; });
        add(read + ": more requests than capacity()", IllegalStateException.class, "request slots are in use",
                x -> {
                    try (AioContext small = AioContext.open(1)) {
                        for (int i = 0; i <= small.capacity(); i++) {
                            small.prepareRead(x.readOnly, x.segment(512), 0, i);
                        }
                    }
                    return null;
                });
        String write = "AioContext.prepareWrite(AioFile,MemorySegment,long,long,RequestOptions)";
        add(write + ": file opened read-only", IllegalArgumentException.class, "was not opened for writing",
                x -> { x.context.prepareWrite(x.readOnly, x.segment(512), 0, 1); return null; });
        add(write + ": position + length overflows", IllegalArgumentException.class, "overflows a long",
                x -> { x.context.prepareWrite(x.writeOnly, x.segment(512), Long.MAX_VALUE - 10, 1); return null; });
        add(write + ": more than the kernel's MAX_RW_COUNT", IllegalArgumentException.class,
                "more than the kernel transfers in one call", x -> {
                    x.context.prepareWrite(x.writeOnly, x.huge(), 0, 1);
                    return null;
                });
        add(write + ": closed file", IllegalStateException.class, "is closed",
                x -> { x.context.prepareWrite(x.closedFile, x.segment(512), 0, 1); return null; });

        // ---- AioContext.prepareRead / prepareWrite, ByteBuffer
        for (boolean withOptions : new boolean[] {false, true}) {
            String suffix = withOptions ? ",RequestOptions)" : ")";
            String readBuffer = "AioContext.prepareRead(AioFile,ByteBuffer,long,long" + suffix;
            String writeBuffer = "AioContext.prepareWrite(AioFile,ByteBuffer,long,long" + suffix;
            add(readBuffer + ": heap buffer", IllegalArgumentException.class, "needs a direct ByteBuffer",
                    x -> prepareRead(x, x.readOnly, ByteBuffer.allocate(512), 0, withOptions));
            // A direct ByteBuffer keeps the address of memory its arena has freed: prepared and submitted, the
            // kernel would write into freed memory. This case never submits it.
            add(readBuffer + ": closed arena", IllegalStateException.class, "closed",
                    x -> prepareRead(x, x.readOnly, x.deadBuffer(512, 0), 0, withOptions));
            add(writeBuffer + ": heap buffer", IllegalArgumentException.class, "needs a direct ByteBuffer",
                    x -> prepareWrite(x, x.writeOnly, ByteBuffer.allocate(512), 0, withOptions));
            add(writeBuffer + ": closed arena", IllegalStateException.class, "closed",
                    x -> prepareWrite(x, x.writeOnly, x.deadBuffer(512, 0), 0, withOptions));
        }
        String readBuffer = "AioContext.prepareRead(AioFile,ByteBuffer,long,long)";
        add(readBuffer + ": null buffer", NullPointerException.class, "buffer",
                x -> { x.context.prepareRead(x.readOnly, (ByteBuffer) null, 0, 1); return null; });
        add(readBuffer + ": read-only buffer", IllegalArgumentException.class, "cannot read into a read-only ByteBuffer",
                x -> { x.context.prepareRead(x.readOnly, x.aligned(512).asReadOnlyBuffer(), 0, 1); return null; });
        add(readBuffer + ": position -1", IllegalArgumentException.class, "must not be negative",
                x -> { x.context.prepareRead(x.readOnly, x.aligned(512), -1, 1); return null; });
        add(readBuffer + ": direct, misaligned buffer address", MisalignedIoException.class,
                "buffer address to be a multiple of",
                x -> { x.context.prepareRead(x.direct, x.misaligned(4096), 0, 1); return null; });

        // ---- AioContext vectored
        for (boolean reading : new boolean[] {true, false}) {
            String vectored = reading
                    ? "AioContext.prepareReadVectored(AioFile,MemorySegment[],long,long,RequestOptions)"
                    : "AioContext.prepareWriteVectored(AioFile,MemorySegment[],long,long,RequestOptions)";
            add(vectored + ": null array", NullPointerException.class, "buffers",
                    x -> vectored(x, reading, x.direct, null, 0, RequestOptions.NONE));
            add(vectored + ": no buffers", IllegalArgumentException.class, "1 to 1024 buffers (UIO_MAXIOV), not 0",
                    x -> vectored(x, reading, x.direct, new MemorySegment[0], 0, RequestOptions.NONE));
            add(vectored + ": 1025 buffers", IllegalArgumentException.class, "not 1025",
                    x -> vectored(x, reading, x.direct, filled(1025, x.segment(512)), 0, RequestOptions.NONE));
            add(vectored + ": a null buffer", NullPointerException.class, "buffer",
                    x -> vectored(x, reading, x.direct, new MemorySegment[] {x.segment(512), null}, 0,
                            RequestOptions.NONE));
            add(vectored + ": heap segment", IllegalArgumentException.class, "not a heap segment",
                    x -> vectored(x, reading, x.direct, new MemorySegment[] {x.segment(512), x.heap(512)}, 0,
                            RequestOptions.NONE));
            add(vectored + ": closed arena", IllegalStateException.class, "arena is already closed",
                    x -> vectored(x, reading, x.direct, new MemorySegment[] {x.dead(512)}, 0, RequestOptions.NONE));
            add(vectored + ": direct, misaligned buffer length", MisalignedIoException.class,
                    "buffer length to be a multiple of",
                    x -> vectored(x, reading, x.direct, new MemorySegment[] {x.segment(4096).asSlice(0, 100)}, 0,
                            RequestOptions.NONE));
            add(vectored + ": direct, misaligned buffer address", MisalignedIoException.class,
                    "buffer address to be a multiple of",
                    x -> vectored(x, reading, x.direct, new MemorySegment[] {x.segment(8192).asSlice(8, 512)}, 0,
                            RequestOptions.NONE));
            add(vectored + ": position -1", IllegalArgumentException.class, "must not be negative",
                    x -> vectored(x, reading, x.direct, new MemorySegment[] {x.segment(512)}, -1,
                            RequestOptions.NONE));
            add(vectored + ": null options", NullPointerException.class, "options",
                    x -> vectored(x, reading, x.direct, new MemorySegment[] {x.segment(512)}, 0, null));
            add(vectored + ": closed context", IllegalStateException.class, "AioContext is closed",
                    x -> { if (reading) {
                            x.closedContext.prepareReadVectored(x.direct, new MemorySegment[] {x.segment(512)}, 0, 1,
                                    RequestOptions.NONE);
                        } else {
                            x.closedContext.prepareWriteVectored(x.direct, new MemorySegment[] {x.segment(512)}, 0, 1,
                                    RequestOptions.NONE);
                        }
                        return null; });
            if (reading) {
                add(vectored + ": read-only segment", IllegalArgumentException.class, "read-only",
                        x -> vectored(x, true, x.direct, new MemorySegment[] {x.segment(512).asReadOnly()}, 0,
                                RequestOptions.NONE));
                add(vectored + ": file opened write-only", IllegalArgumentException.class, "not opened for reading",
                        x -> vectored(x, true, x.writeOnly, new MemorySegment[] {x.segment(512)}, 0,
                                RequestOptions.NONE));
            } else {
                add(vectored + ": file opened read-only", IllegalArgumentException.class, "not opened for writing",
                        x -> vectored(x, false, x.readOnly, new MemorySegment[] {x.segment(512)}, 0,
                                RequestOptions.NONE));
            }
        }

        // ---- AioContext fsync, fdatasync, poll
        for (String sync : new String[] {"prepareFsync", "prepareFdatasync"}) {
            boolean fsync = sync.equals("prepareFsync");
            String name = "AioContext." + sync + "(AioFile,long,RequestOptions)";
            add(name + ": null file", NullPointerException.class, "file",
                    x -> sync(x.context, fsync, null, RequestOptions.NONE));
            add(name + ": null options", NullPointerException.class, "options",
                    x -> sync(x.context, fsync, x.readOnly, null));
            add(name + ": rw flags", IllegalArgumentException.class, "take no rw flags",
                    x -> sync(x.context, fsync, x.readOnly, RequestOptions.NONE.withFlags(RwFlag.DSYNC)));
            add(name + ": closed file", IllegalStateException.class, "is closed",
                    x -> sync(x.context, fsync, x.closedFile, RequestOptions.NONE));
            add(name + ": closed context", IllegalStateException.class, "AioContext is closed",
                    x -> sync(x.closedContext, fsync, x.readOnly, RequestOptions.NONE));
        }
        String poll = "AioContext.preparePoll(Pollable,int,long,RequestOptions)";
        add(poll + ": null target", NullPointerException.class, "target",
                x -> { x.context.preparePoll(null, 1, 1); return null; });
        add(poll + ": no events", IllegalArgumentException.class, "non-empty mask of 16 bits",
                x -> { x.context.preparePoll(x.eventFd, 0, 1); return null; });
        add(poll + ": negative events", IllegalArgumentException.class, "not 0xffffffff",
                x -> { x.context.preparePoll(x.eventFd, -1, 1); return null; });
        add(poll + ": events wider than 16 bits", IllegalArgumentException.class, "not 0x10000",
                x -> { x.context.preparePoll(x.eventFd, 0x10000, 1); return null; });
        add(poll + ": rw flags", IllegalArgumentException.class, "poll takes no rw flags",
                x -> { x.context.preparePoll(x.eventFd, 1, 1, RequestOptions.NONE.withFlags(RwFlag.NOWAIT));
                    return null; });
        add(poll + ": null options", NullPointerException.class, "options",
                x -> { x.context.preparePoll(x.eventFd, 1, 1, null); return null; });
        add(poll + ": closed eventfd", IllegalStateException.class, "closed",
                x -> { x.context.preparePoll(x.closedEventFd, 1, 1); return null; });
        add(poll + ": closed file", IllegalStateException.class, "closed",
                x -> { x.context.preparePoll(x.closedFile, 1, 1); return null; });

        // ---- AioContext submit, reap, await, cancel
        add("AioContext.submit(): closed context", IllegalStateException.class, "AioContext is closed",
                x -> x.closedContext.submit());
        add("AioContext.reap(CompletionConsumer): null consumer", NullPointerException.class, "consumer",
                x -> x.context.reap(null));
        add("AioContext.reap(int,CompletionConsumer): max 0", IllegalArgumentException.class, "max must be positive: 0",
                x -> x.context.reap(0, IGNORE));
        add("AioContext.reap(int,CompletionConsumer): max -1", IllegalArgumentException.class, "max must be positive",
                x -> x.context.reap(-1, IGNORE));
        add("AioContext.reap(CompletionConsumer): closed context", IllegalStateException.class, "AioContext is closed",
                x -> x.closedContext.reap(IGNORE));
        String await = "AioContext.await(int,long,TimeUnit,CompletionConsumer)";
        add(await + ": min 0", IllegalArgumentException.class, "min must be between 1 and the 0 requests in flight",
                x -> x.context.await(0, 1, TimeUnit.MILLISECONDS, IGNORE));
        add(await + ": min above the requests in flight", IllegalArgumentException.class, "requests in flight, not 1",
                x -> x.context.await(1, 1, TimeUnit.MILLISECONDS, IGNORE));
        add(await + ": min Integer.MAX_VALUE", IllegalArgumentException.class, "min must be between",
                x -> x.context.await(Integer.MAX_VALUE, Long.MAX_VALUE, TimeUnit.DAYS, IGNORE));
        add(await + ": negative timeout", IllegalArgumentException.class, "timeout must not be negative",
                x -> x.context.await(1, -1, TimeUnit.SECONDS, IGNORE));
        add(await + ": null unit", NullPointerException.class, "unit",
                x -> x.context.await(1, 1, null, IGNORE));
        add(await + ": null consumer", NullPointerException.class, "consumer",
                x -> x.context.await(1, 1, TimeUnit.SECONDS, null));
        add(await + ": closed context", IllegalStateException.class, "AioContext is closed",
                x -> x.closedContext.await(1, 1, TimeUnit.SECONDS, IGNORE));
        add("AioContext.await(int,CompletionConsumer): nothing in flight", IllegalArgumentException.class,
                "0 requests in flight", x -> x.context.await(1, IGNORE));
        add("AioContext.cancel(long): closed context", IllegalStateException.class, "AioContext is closed",
                x -> x.closedContext.cancel(1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldRejectWithATypedExceptionAndAMessageToActOn(Case c) throws Exception {
        check(c);
    }
}
