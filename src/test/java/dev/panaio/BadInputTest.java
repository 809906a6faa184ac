package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input to the public entry points that take input a caller can get
 * wrong, as a table: each case names the call and the input, the exception
 * type a caller gets, and a fragment of a message they can act on. The exception may be thrown at once or, for calls
 * that return a future or take a handler, arrive through it.
 *
 * <p>After each case, nothing was left prepared or in flight in the shared
 * context and engine, and no bounce buffer is still out: a rejected request
 * never reaches the kernel. Where the right answer is a JDK type with no
 * message of its own (ClosedChannelException, NonReadableChannelException,
 * NonWritableChannelException, AsynchronousCloseException), the type is the
 * message and the fragment is null, as for the JDK's channels.
 *
 * <p>{@link PublicApiSecurityTest} checks that every public method taking a
 * MemorySegment or ByteBuffer has a "heap" case and a "closed arena" case
 * here, by the case names' signature prefix.
 */
class BadInputTest {
    @TempDir
    static Path dir;

    private static Fixture f;

    /** Everything the cases use, open once for the class. */
    static final class Fixture {
        Path data;
        Path scratch;
        AioContext context;
        AioContext closedContext;
        AioFile readOnly;
        AioFile writeOnly;
        AioFile direct;
        AioFile closedFile;
        EventFd eventFd;
        EventFd closedEventFd;
        AioEngine engine;
        AioEngine closedEngine;
        AioFileChannel channel;
        AioFileChannel directChannel;
        AioFileChannel strictChannel;
        AioFileChannel readOnlyChannel;
        AioFileChannel writeOnlyChannel;
        AioFileChannel closedChannel;
        AioAsynchronousFileChannel async;
        AioAsynchronousFileChannel asyncDirect;
        AioAsynchronousFileChannel asyncStrict;
        AioAsynchronousFileChannel asyncReadOnly;
        AioAsynchronousFileChannel asyncWriteOnly;
        AioAsynchronousFileChannel asyncClosed;
        AioArena aioArena;
        AioArena closedAioArena;
        Arena arena;
        long memoryAlign;
        long offsetAlign;

        /** Native memory, 4096-aligned. */
        MemorySegment segment(long size) {
            return arena.allocate(size, 4096);
        }

        MemorySegment heap(int size) {
            return MemorySegment.ofArray(new byte[size]);
        }

        /** Memory of an arena that is already closed. */
        MemorySegment dead(long size) {
            try (Arena gone = Arena.ofConfined()) {
                return gone.allocate(size, 4096);
            }
        }

        /** A direct ByteBuffer over memory of an arena that is already closed. */
        ByteBuffer deadBuffer(int size, int misalignment) {
            try (Arena gone = Arena.ofShared()) {
                return gone.allocate(size + 4096L, 4096).asSlice(misalignment, size).asByteBuffer();
            }
        }

        /** A direct channel of its own on the scratch file, closed with the fixture. */
        AioFileChannel directChannel() throws IOException {
            AioFileChannel channel = AioFileChannel.open(scratch, Set.of(READ, WRITE, ExtendedOpenOption.DIRECT),
                    engine);
            extra.add(channel);
            return channel;
        }

        final List<AutoCloseable> extra = new java.util.concurrent.CopyOnWriteArrayList<>();

        private MemorySegment huge;

        /**
         * 3 GiB of an AioArena (so used in place, never bounced): a sparse file mapped, so that no memory is
         * taken unless a request that should be refused reaches the kernel.
         */
        MemorySegment huge() throws IOException {
            if (huge == null) {
                try (FileChannel sparse = FileChannel.open(dir.resolve("sparse"), CREATE, READ, WRITE)) {
                    sparse.write(ByteBuffer.wrap(new byte[1]), (3L << 30) - 1);
                    huge = sparse.map(FileChannel.MapMode.READ_WRITE, 0, 3L << 30, aioArena);
                }
            }
            return huge;
        }

        ByteBuffer aligned(int size) {
            return segment(size).asByteBuffer();
        }

        ByteBuffer misaligned(int size) {
            return segment(size + 4096L).asSlice(8, size).asByteBuffer();
        }
    }

    @BeforeAll
    static void openFixture() throws IOException {
        f = new Fixture();
        f.data = TestData.writeFile(dir.resolve("data"), 1 << 16, 3);
        f.scratch = TestData.writeFile(dir.resolve("scratch"), 1 << 16, 3); // the channels' writes land here
        f.arena = Arena.ofShared();
        f.context = AioContext.open(8);
        f.closedContext = AioContext.open(1);
        f.closedContext.close();
        f.readOnly = AioFile.open(f.data, READ);
        f.writeOnly = AioFile.open(f.scratch, WRITE);
        f.direct = AioFile.open(f.scratch, READ, WRITE, ExtendedOpenOption.DIRECT);
        f.memoryAlign = f.direct.alignment().memory();
        f.offsetAlign = f.direct.alignment().offset();
        f.closedFile = AioFile.open(f.data, READ, ExtendedOpenOption.DIRECT);
        f.closedFile.close();
        f.eventFd = EventFd.open();
        f.closedEventFd = EventFd.open();
        f.closedEventFd.close();
        f.engine = AioEngine.builder().capacity(16).build();
        f.closedEngine = AioEngine.builder().capacity(1).build();
        f.closedEngine.close();
        Set<OpenOption> rw = Set.of(READ, WRITE);
        Set<OpenOption> rwDirect = Set.of(READ, WRITE, ExtendedOpenOption.DIRECT);
        Set<OpenOption> strict = Set.of(READ, WRITE, ExtendedOpenOption.DIRECT, PanaioOpenOption.STRICT_ALIGNMENT);
        f.channel = AioFileChannel.open(f.scratch, rw, f.engine);
        f.directChannel = AioFileChannel.open(f.scratch, rwDirect, f.engine);
        f.strictChannel = AioFileChannel.open(f.scratch, strict, f.engine);
        f.readOnlyChannel = AioFileChannel.open(f.data, Set.of(READ), f.engine);
        f.writeOnlyChannel = AioFileChannel.open(f.scratch, Set.of(WRITE), f.engine);
        f.closedChannel = AioFileChannel.open(f.scratch, rw, f.engine);
        f.closedChannel.close();
        f.async = AioAsynchronousFileChannel.open(f.scratch, rw, null, f.engine);
        f.asyncDirect = AioAsynchronousFileChannel.open(f.scratch, rwDirect, null, f.engine);
        f.asyncStrict = AioAsynchronousFileChannel.open(f.scratch, strict, null, f.engine);
        f.asyncReadOnly = AioAsynchronousFileChannel.open(f.data, Set.of(READ), null, f.engine);
        f.asyncWriteOnly = AioAsynchronousFileChannel.open(f.scratch, Set.of(WRITE), null, f.engine);
        f.asyncClosed = AioAsynchronousFileChannel.open(f.scratch, rw, null, f.engine);
        f.asyncClosed.close();
        f.aioArena = AioArena.open();
        f.closedAioArena = AioArena.open();
        f.closedAioArena.close();
    }

    @AfterAll
    static void closeFixture() throws IOException {
        for (AutoCloseable c : f.extra) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IOException("closing " + c, e);
            }
        }
        for (AutoCloseable c : new AutoCloseable[] {f.channel, f.directChannel, f.strictChannel, f.readOnlyChannel,
                f.writeOnlyChannel, f.async, f.asyncDirect, f.asyncStrict, f.asyncReadOnly, f.asyncWriteOnly,
                f.context, f.engine, f.readOnly, f.writeOnly, f.direct, f.eventFd}) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IOException("closing " + c, e);
            }
        }
        f.arena.close();
        f.aioArena.close();
    }

    // ------------------------------------------------------------ the table

    /** A call that should fail; it may return a Future whose failure is the outcome. */
    @FunctionalInterface
    interface Call {
        Object run(Fixture f) throws Throwable;
    }

    /**
     * @param name     the entry point's signature, a colon, and the bad input
     * @param type     the exception the caller must get
     * @param fragment part of its message, or null where the JDK type says it all
     */
    record Case(String name, Class<? extends Throwable> type, String fragment, Call call) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Case> CASES = new ArrayList<>();

    private static void add(String name, Class<? extends Throwable> type, String fragment, Call call) {
        CASES.add(new Case(name, type, fragment, call));
    }

    static List<Case> cases() {
        return CASES;
    }

    /** The kernel's MAX_RW_COUNT on 4 KiB pages: 2 GiB - 4096. */
    private static final long MAX_RW = Integer.MAX_VALUE & -4096L;
    private static final CompletionConsumer IGNORE = (tag, result) -> { };
    /** How long a call with bad input may block before the case counts it as hung: they take milliseconds. */
    private static final int HANG_SECONDS = 2;
    private static final int MAX_AIO_NR = (int) Math.min(Integer.MAX_VALUE, aioMaxNr());

    private static long aioMaxNr() {
        try {
            return Long.parseLong(java.nio.file.Files.readAllLines(Path.of("/proc/sys/fs/aio-max-nr")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            return Long.MAX_VALUE;
        }
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

        // ---- AioFile
        add("AioFile.open(Path,OpenOption[]): null path", NullPointerException.class, "path",
                x -> AioFile.open(null, READ));
        add("AioFile.open(Path,OpenOption[]): null option", NullPointerException.class, "option",
                x -> AioFile.open(x.data, READ, null));
        add("AioFile.open(Path,OpenOption[]): an option of another provider", UnsupportedOperationException.class,
                "FOREIGN not supported", x -> AioFile.open(x.data, new OpenOption() {
                    @Override
                    public String toString() {
                        return "FOREIGN";
                    }
                }));
        add("AioFile.open(Path,OpenOption[]): APPEND + TRUNCATE_EXISTING", IllegalArgumentException.class,
                "APPEND + TRUNCATE_EXISTING", x -> AioFile.open(x.data, APPEND, TRUNCATE_EXISTING));
        add("AioFile.open(Path,OpenOption[]): READ + APPEND", IllegalArgumentException.class, "READ + APPEND",
                x -> AioFile.open(x.data, READ, APPEND));
        add("AioFile.open(Path,OpenOption[]): missing file", NoSuchFileException.class, "missing",
                x -> AioFile.open(x.data.resolveSibling("missing"), READ));
        add("AioFile.open(Path,OpenOption[]): a directory for writing", FileSystemException.class, "EISDIR",
                x -> AioFile.open(x.data.getParent(), WRITE));
        add("AioFile.truncate(long): -1", IllegalArgumentException.class, "size must not be negative: -1",
                x -> { x.direct.truncate(-1); return null; });
        add("AioFile.truncate(long): beyond the largest file", AioException.class, "EFBIG",
                x -> { x.writeOnly.truncate(Long.MAX_VALUE); return null; });
        add("AioFile.truncate(long): file opened read-only", AioException.class, "ftruncate",
                x -> { x.readOnly.truncate(0); return null; });
        add("AioFile.truncate(long): closed file", ClosedChannelException.class, null,
                x -> { x.closedFile.truncate(0); return null; });
        add("AioFile.size(): closed file", ClosedChannelException.class, null, x -> x.closedFile.size());
        add("AioFile.alignment(): closed file", ClosedChannelException.class, null, x -> x.closedFile.alignment());

        // ---- EventFd
        add("EventFd.write(long): 0", IllegalArgumentException.class, "increment must be positive: 0",
                x -> { x.eventFd.write(0); return null; });
        add("EventFd.write(long): Long.MIN_VALUE", IllegalArgumentException.class, "must be positive",
                x -> { x.eventFd.write(Long.MIN_VALUE); return null; });
        add("EventFd.write(long): closed", ClosedChannelException.class, null,
                x -> { x.closedEventFd.write(1); return null; });
        add("EventFd.read(): closed", ClosedChannelException.class, null, x -> x.closedEventFd.read());

        // ---- AioFileChannel
        add("AioFileChannel.open(Path,OpenOption[]): null path", NullPointerException.class, "path",
                x -> AioFileChannel.open(null, READ));
        add("AioFileChannel.open(Path,Set,AioEngine): null engine", NullPointerException.class, "engine",
                x -> AioFileChannel.open(x.data, Set.of(READ), (AioEngine) null));
        add("AioFileChannel.open(Path,Set,AioEngine): null options", NullPointerException.class, null,
                x -> AioFileChannel.open(x.data, null, x.engine));
        add("AioFileChannel.open(Path,Set,AioEngine): missing file", NoSuchFileException.class, "missing",
                x -> AioFileChannel.open(x.data.resolveSibling("missing"), Set.of(READ), x.engine));
        String channelRead = "AioFileChannel.read(ByteBuffer,long)";
        String channelWrite = "AioFileChannel.write(ByteBuffer,long)";
        add(channelRead + ": null buffer", NullPointerException.class, "dst", x -> x.channel.read(null, 0));
        add(channelRead + ": position -1", IllegalArgumentException.class, "Negative position",
                x -> x.channel.read(ByteBuffer.allocate(10), -1));
        add(channelRead + ": read-only buffer", IllegalArgumentException.class, "Read-only buffer",
                x -> x.channel.read(ByteBuffer.allocate(10).asReadOnlyBuffer(), 0));
        add(channelRead + ": channel opened write-only", NonReadableChannelException.class, null,
                x -> x.writeOnlyChannel.read(ByteBuffer.allocate(10), 0));
        add(channelRead + ": closed channel", ClosedChannelException.class, null,
                x -> x.closedChannel.read(ByteBuffer.allocate(10), 0));
        // As the JDK's channel, where pread answers EINVAL: an IOException, "Invalid argument".
        add(channelRead + ": position + length overflows", IOException.class, "Invalid argument",
                x -> x.channel.read(ByteBuffer.allocate(4096), Long.MAX_VALUE - 100));
        add(channelRead + ": direct, misaligned position", MisalignedIoException.class, "file position",
                x -> x.directChannel.read(x.aligned(4096), 100));
        add(channelRead + ": direct, misaligned length", MisalignedIoException.class, "length",
                x -> x.directChannel.read(x.aligned(4096).limit(1000), 0));
        add(channelRead + ": direct, strict, heap buffer", MisalignedIoException.class, "heap buffer",
                x -> x.strictChannel.read(ByteBuffer.allocate(4096), 0));
        add(channelRead + ": direct, strict, misaligned buffer", MisalignedIoException.class, "buffer address",
                x -> x.strictChannel.read(x.misaligned(4096), 0));
        // A misaligned direct buffer goes through a bounce buffer; a copy back into freed memory would throw on
        // the engine thread and leave the caller waiting. Bounded so that a regression fails instead of hanging.
        add(channelRead + ": closed arena", IllegalStateException.class, "closed",
                x -> withinSeconds(HANG_SECONDS, y -> y.directChannel.read(y.deadBuffer(4096, 8), 0)));
        // The relative calls hold the channel's position lock while they wait: each gets a channel of its own.
        add("AioFileChannel.read(ByteBuffer): closed arena", IllegalStateException.class, "closed",
                x -> withinSeconds(HANG_SECONDS, y -> y.directChannel().read(y.deadBuffer(4096, 8))));
        add("AioFileChannel.read(ByteBuffer[],int,int): closed arena", IllegalStateException.class, "closed",
                x -> withinSeconds(HANG_SECONDS, y -> y.directChannel().read(
                        new ByteBuffer[] {y.deadBuffer(4096, 8)}, 0, 1)));
        add(channelWrite + ": null buffer", NullPointerException.class, "src", x -> x.channel.write(null, 0));
        add(channelWrite + ": position -1", IllegalArgumentException.class, "Negative position",
                x -> x.channel.write(ByteBuffer.allocate(10), -1));
        add(channelWrite + ": channel opened read-only", NonWritableChannelException.class, null,
                x -> x.readOnlyChannel.write(ByteBuffer.allocate(10), 0));
        add(channelWrite + ": closed channel", ClosedChannelException.class, null,
                x -> x.closedChannel.write(ByteBuffer.allocate(10), 0));
        // Aligned, the buffer would go to the kernel as it is (freed memory read into the file); misaligned, the
        // copy into a bounce buffer would fail after the bounce buffer was taken.
        add(channelWrite + ": closed arena", IllegalStateException.class, "closed",
                x -> withinSeconds(HANG_SECONDS, y -> y.directChannel.write(y.deadBuffer(4096, 0), 0)));
        add(channelWrite + ": closed arena, misaligned", IllegalStateException.class, "closed",
                x -> withinSeconds(HANG_SECONDS, y -> y.directChannel.write(y.deadBuffer(4096, 8), 0)));
        add("AioFileChannel.write(ByteBuffer): closed arena", IllegalStateException.class, "closed",
                x -> withinSeconds(HANG_SECONDS, y -> y.directChannel().write(y.deadBuffer(4096, 0))));
        add("AioFileChannel.write(ByteBuffer[],int,int): closed arena", IllegalStateException.class, "closed",
                x -> withinSeconds(HANG_SECONDS, y -> y.directChannel().write(
                        new ByteBuffer[] {y.deadBuffer(4096, 0)}, 0, 1)));
        // On a buffered channel a direct buffer goes to preadv2/pwritev2 as it is. A write that slipped through
        // would only make the kernel read freed memory into the file, so it is what is tried here; the same read
        // would make the kernel write into freed memory.
        add(channelWrite + ": buffered, closed arena", IllegalStateException.class, "closed",
                x -> withinSeconds(HANG_SECONDS, y -> y.channel.write(y.deadBuffer(4096, 0), 0)));
        add("AioAsynchronousFileChannel.writeAsync(ByteBuffer,long): buffered, closed arena",
                IllegalStateException.class, "closed", x -> x.async.writeAsync(x.deadBuffer(4096, 0), 0));
        add("AioAsynchronousFileChannel.writeAsync(ByteBuffer,long,RequestOptions): buffered, closed arena",
                IllegalStateException.class, "closed",
                x -> x.async.writeAsync(x.deadBuffer(4096, 0), 0, RequestOptions.NONE.withFlags(RwFlag.DSYNC)));
        add("AioAsynchronousFileChannel.readAsync(ByteBuffer,long,RequestOptions): direct, closed arena",
                IllegalStateException.class, "closed",
                x -> x.asyncDirect.readAsync(x.deadBuffer(4096, 8), 0, RequestOptions.NONE));
        add("AioAsynchronousFileChannel.readAsync(ByteBuffer,long,RequestOptions): options with an eventfd",
                IllegalArgumentException.class, "the engine signals its own eventfd",
                x -> x.async.readAsync(ByteBuffer.allocate(16), 0, RequestOptions.NONE.withNotify(x.eventFd)));
        add(channelWrite + ": position + length overflows", IOException.class, "Invalid argument",
                x -> x.channel.write(ByteBuffer.allocate(4096), Long.MAX_VALUE - 100));
        add(channelWrite + ": direct, misaligned position", MisalignedIoException.class, "file position",
                x -> x.directChannel.write(x.aligned(4096), 100));
        add("AioFileChannel.read(ByteBuffer[],int,int): null array", NullPointerException.class, null,
                x -> x.channel.read(null, 0, 1));
        add("AioFileChannel.read(ByteBuffer[],int,int): offset -1", IndexOutOfBoundsException.class, null,
                x -> x.channel.read(new ByteBuffer[1], -1, 1));
        add("AioFileChannel.write(ByteBuffer[],int,int): length beyond the array", IndexOutOfBoundsException.class,
                null, x -> x.channel.write(new ByteBuffer[1], 0, 2));
        add("AioFileChannel.position(long): -1", IllegalArgumentException.class, null, x -> x.channel.position(-1));
        add("AioFileChannel.truncate(long): -1", IllegalArgumentException.class, "Negative size",
                x -> x.channel.truncate(-1));
        add("AioFileChannel.map(MapMode,long,long): position -1", IllegalArgumentException.class, "Negative position",
                x -> x.channel.map(FileChannel.MapMode.READ_ONLY, -1, 10));
        add("AioFileChannel.lock(long,long,boolean): position -1", IllegalArgumentException.class,
                "Negative position", x -> x.channel.lock(-1, 1, false));
        add("AioFileChannel.size(): closed channel", ClosedChannelException.class, null, x -> x.closedChannel.size());
        add("AioFileChannel.transferTo(long,long,WritableByteChannel): position -1", IllegalArgumentException.class,
                null, x -> x.channel.transferTo(-1, 10, x.writeOnlyChannel));
        add("AioFileChannel.transferTo(long,long,WritableByteChannel): count -1", IllegalArgumentException.class,
                null, x -> x.channel.transferTo(0, -1, x.writeOnlyChannel));
        add("AioFileChannel.transferTo(long,long,WritableByteChannel): null target", NullPointerException.class,
                null, x -> x.channel.transferTo(0, 10, null));
        add("AioFileChannel.transferTo(long,long,WritableByteChannel): closed channel", ClosedChannelException.class,
                null, x -> x.closedChannel.transferTo(0, 10, x.writeOnlyChannel));
        add("AioFileChannel.transferTo(long,long,WritableByteChannel): channel opened write-only",
                NonReadableChannelException.class, null, x -> x.writeOnlyChannel.transferTo(0, 10, x.channel));
        add("AioFileChannel.transferTo(long,long,WritableByteChannel): target opened read-only",
                NonWritableChannelException.class, null, x -> x.channel.transferTo(0, 10, x.readOnlyChannel));
        add("AioFileChannel.transferFrom(ReadableByteChannel,long,long): position -1", IllegalArgumentException.class,
                null, x -> x.channel.transferFrom(x.readOnlyChannel, -1, 10));
        add("AioFileChannel.transferFrom(ReadableByteChannel,long,long): count -1", IllegalArgumentException.class,
                null, x -> x.channel.transferFrom(x.readOnlyChannel, 0, -1));
        add("AioFileChannel.transferFrom(ReadableByteChannel,long,long): null source", NullPointerException.class,
                null, x -> x.channel.transferFrom(null, 0, 10));
        add("AioFileChannel.transferFrom(ReadableByteChannel,long,long): closed channel",
                ClosedChannelException.class, null, x -> x.closedChannel.transferFrom(x.readOnlyChannel, 0, 10));
        add("AioFileChannel.transferFrom(ReadableByteChannel,long,long): channel opened read-only",
                NonWritableChannelException.class, null, x -> x.readOnlyChannel.transferFrom(x.channel, 0, 10));
        add("AioFileChannel.transferFrom(ReadableByteChannel,long,long): source opened write-only",
                NonReadableChannelException.class, null, x -> x.channel.transferFrom(x.writeOnlyChannel, 0, 10));
        add("AioFileChannel.tryLock(long,long,boolean): position -1", IllegalArgumentException.class,
                "Negative position", x -> x.channel.tryLock(-1, 1, false));
        add("AioFileChannel.tryLock(long,long,boolean): size -1", IllegalArgumentException.class, "Negative size",
                x -> x.channel.tryLock(0, -1, false));
        add("AioFileChannel.tryLock(long,long,boolean): position + size overflows", IllegalArgumentException.class,
                "Negative position + size", x -> x.channel.tryLock(Long.MAX_VALUE, 10, false));
        add("AioFileChannel.tryLock(long,long,boolean): shared on a write-only channel",
                NonReadableChannelException.class, null, x -> x.writeOnlyChannel.tryLock(0, 1, true));
        add("AioFileChannel.tryLock(long,long,boolean): exclusive on a read-only channel",
                NonWritableChannelException.class, null, x -> x.readOnlyChannel.tryLock(0, 1, false));
        add("AioFileChannel.tryLock(long,long,boolean): closed channel", ClosedChannelException.class, null,
                x -> x.closedChannel.tryLock(0, 1, false));
        add("AioFileChannel.force(boolean): closed channel", ClosedChannelException.class, null,
                x -> {
                    x.closedChannel.force(true);
                    return null;
                });
        add("AioAsynchronousFileChannel.force(boolean): closed channel", ClosedChannelException.class, null,
                x -> {
                    x.asyncClosed.force(false);
                    return null;
                });
        add("AioAsynchronousFileChannel.tryLock(long,long,boolean): size -1", IllegalArgumentException.class,
                "Negative size", x -> x.async.tryLock(0, -1, false));
        add("AioAsynchronousFileChannel.tryLock(long,long,boolean): closed channel", ClosedChannelException.class,
                null, x -> x.asyncClosed.tryLock(0, 1, false));

        // ---- AioArena
        add("AioArena.allocate(long,long): size -1", IllegalArgumentException.class, null,
                x -> x.aioArena.allocate(-1, 8));
        add("AioArena.allocate(long,long): alignment 3", IllegalArgumentException.class, null,
                x -> x.aioArena.allocate(8, 3));
        add("AioArena.allocate(long,long): closed arena", IllegalStateException.class, null,
                x -> x.closedAioArena.allocate(8, 8));

        // ---- AioFileSystemProvider
        add("AioFileSystemProvider.wrap(Path): null", NullPointerException.class, null,
                x -> AioFileSystemProvider.wrap(null));
        add("AioFileSystemProvider(FileSystemProvider): null", NullPointerException.class, null,
                x -> new AioFileSystemProvider(null));

        // ---- AioAsynchronousFileChannel
        add("AioAsynchronousFileChannel.open(Path,Set,ExecutorService,AioEngine): null engine",
                NullPointerException.class, "engine", x -> AioAsynchronousFileChannel.open(x.data, Set.of(READ), null,
                        (AioEngine) null));
        add("AioAsynchronousFileChannel.open(Path,OpenOption[]): null path", NullPointerException.class, "path",
                x -> AioAsynchronousFileChannel.open(null, READ));
        for (String form : new String[] {"future", "handler", "completable"}) {
            String asyncRead = switch (form) {
                case "future" -> "AioAsynchronousFileChannel.read(ByteBuffer,long)";
                case "handler" -> "AioAsynchronousFileChannel.read(ByteBuffer,long,Object,CompletionHandler)";
                default -> "AioAsynchronousFileChannel.readAsync(ByteBuffer,long)";
            };
            String asyncWrite = asyncRead.replace("read", "write").replace("Read", "Write");
            add(asyncRead + ": null buffer", NullPointerException.class, "dst",
                    x -> asyncRead(form, x.async, null, 0));
            add(asyncRead + ": position -1", IllegalArgumentException.class, "Negative position",
                    x -> asyncRead(form, x.async, ByteBuffer.allocate(10), -1));
            add(asyncRead + ": read-only buffer", IllegalArgumentException.class, "Read-only buffer",
                    x -> asyncRead(form, x.async, ByteBuffer.allocate(10).asReadOnlyBuffer(), 0));
            add(asyncRead + ": channel opened write-only", NonReadableChannelException.class, null,
                    x -> asyncRead(form, x.asyncWriteOnly, ByteBuffer.allocate(10), 0));
            add(asyncRead + ": closed channel", ClosedChannelException.class, null,
                    x -> asyncRead(form, x.asyncClosed, ByteBuffer.allocate(10), 0));
            add(asyncRead + ": closed arena", IllegalStateException.class, "closed",
                    x -> asyncRead(form, x.asyncDirect, x.deadBuffer(4096, 8), 0));
            add(asyncRead + ": direct, misaligned position", MisalignedIoException.class, "file position",
                    x -> asyncRead(form, x.asyncDirect, x.aligned(4096), 100));
            add(asyncRead + ": direct, strict, heap buffer", MisalignedIoException.class, "heap buffer",
                    x -> asyncRead(form, x.asyncStrict, ByteBuffer.allocate(4096), 0));
            add(asyncRead + ": position + length overflows", IOException.class, "Invalid argument",
                    x -> asyncRead(form, x.async, ByteBuffer.allocate(4096), Long.MAX_VALUE - 100));
            add(asyncWrite + ": null buffer", NullPointerException.class, "src",
                    x -> asyncWrite(form, x.async, null, 0));
            add(asyncWrite + ": position -1", IllegalArgumentException.class, "Negative position",
                    x -> asyncWrite(form, x.async, ByteBuffer.allocate(10), -1));
            add(asyncWrite + ": channel opened read-only", NonWritableChannelException.class, null,
                    x -> asyncWrite(form, x.asyncReadOnly, ByteBuffer.allocate(10), 0));
            add(asyncWrite + ": closed channel", ClosedChannelException.class, null,
                    x -> asyncWrite(form, x.asyncClosed, ByteBuffer.allocate(10), 0));
            add(asyncWrite + ": closed arena", IllegalStateException.class, "closed",
                    x -> asyncWrite(form, x.asyncDirect, x.deadBuffer(4096, 0), 0));
            add(asyncWrite + ": direct, misaligned length", MisalignedIoException.class, "length",
                    x -> asyncWrite(form, x.asyncDirect, x.aligned(4096).limit(100), 0));
        }
        add("AioAsynchronousFileChannel.read(ByteBuffer,long,Object,CompletionHandler): null handler",
                NullPointerException.class, "handler",
                x -> { x.async.read(ByteBuffer.allocate(10), 0, null, null); return null; });
        add("AioAsynchronousFileChannel.truncate(long): -1", IllegalArgumentException.class, "Negative size",
                x -> x.async.truncate(-1));
        add("AioAsynchronousFileChannel.lock(long,long,boolean): position -1", IllegalArgumentException.class,
                "Negative position", x -> x.async.lock(-1, 1, false));
        add("AioAsynchronousFileChannel.size(): closed channel", ClosedChannelException.class, null,
                x -> x.asyncClosed.size());

        // ---- RequestOptions, IoPriority, DirectAlignment
        add("RequestOptions.withFlags(RwFlag[]): a null flag", NullPointerException.class, "flag",
                x -> RequestOptions.NONE.withFlags(RwFlag.SYNC, null));
        add("RequestOptions.withFlags(RwFlag[]): null array", NullPointerException.class, null,
                x -> RequestOptions.NONE.withFlags((RwFlag[]) null));
        add("RequestOptions.withPriority(IoPriority): null", NullPointerException.class, "priority",
                x -> RequestOptions.NONE.withPriority(null));
        add("RequestOptions.withNotify(EventFd): null", NullPointerException.class, "eventFd",
                x -> RequestOptions.NONE.withNotify(null));
        add("RequestOptions.has(RwFlag): null", NullPointerException.class, "flag",
                x -> RequestOptions.NONE.has(null));
        add("IoPriority(IoClass,int): null class", NullPointerException.class, "ioClass",
                x -> new IoPriority(null, 0));
        add("IoPriority(IoClass,int): level -1", IllegalArgumentException.class, "must be 0 to 7, not -1",
                x -> new IoPriority(IoPriority.IoClass.BEST_EFFORT, -1));
        add("IoPriority(IoClass,int): level 8", IllegalArgumentException.class, "not 8",
                x -> new IoPriority(IoPriority.IoClass.IDLE, 8));
        add("IoPriority(IoClass,int): level Integer.MIN_VALUE", IllegalArgumentException.class, "must be 0 to 7",
                x -> new IoPriority(IoPriority.IoClass.REALTIME, Integer.MIN_VALUE));
        String alignment = "DirectAlignment(long,long,Source)";
        long[][] badAlignments = {{0, 512}, {512, 0}, {-512, 512}, {3, 512}, {512, 513}, {Long.MIN_VALUE, 512},
                {512, Long.MIN_VALUE}};
        for (long[] bad : badAlignments) {
            add(alignment + ": " + bad[0] + " / " + bad[1], IllegalArgumentException.class,
                    "positive powers of two: memory=" + bad[0] + ", offset=" + bad[1],
                    x -> new DirectAlignment(bad[0], bad[1], DirectAlignment.Source.STATX));
        }
        add(alignment + ": null source", NullPointerException.class, "source",
                x -> new DirectAlignment(512, 512, null));
    }

    // ------------------------------------------------------------- helpers

    private static Object prepareRead(Fixture x, AioFile file, Object buffer, long position, boolean withOptions)
            throws MisalignedIoException {
        if (buffer instanceof MemorySegment s) {
            if (withOptions) {
                x.context.prepareRead(file, s, position, 1, RequestOptions.NONE);
            } else {
                x.context.prepareRead(file, s, position, 1);
            }
        } else if (withOptions) {
            x.context.prepareRead(file, (ByteBuffer) buffer, position, 1, RequestOptions.NONE);
        } else {
            x.context.prepareRead(file, (ByteBuffer) buffer, position, 1);
        }
        return null;
    }

    private static Object prepareWrite(Fixture x, AioFile file, Object buffer, long position, boolean withOptions)
            throws MisalignedIoException {
        if (buffer instanceof MemorySegment s) {
            if (withOptions) {
                x.context.prepareWrite(file, s, position, 1, RequestOptions.NONE);
            } else {
                x.context.prepareWrite(file, s, position, 1);
            }
        } else if (withOptions) {
            x.context.prepareWrite(file, (ByteBuffer) buffer, position, 1, RequestOptions.NONE);
        } else {
            x.context.prepareWrite(file, (ByteBuffer) buffer, position, 1);
        }
        return null;
    }

    private static Object vectored(Fixture x, boolean read, AioFile file, MemorySegment[] buffers, long position,
                                   RequestOptions options) throws MisalignedIoException {
        if (read) {
            x.context.prepareReadVectored(file, buffers, position, 1, options);
        } else {
            x.context.prepareWriteVectored(file, buffers, position, 1, options);
        }
        return null;
    }

    private static AioFile file(Fixture x, boolean read) {
        return read ? x.readOnly : x.writeOnly;
    }

    private static CompletableFuture<Integer> engineVectored(AioEngine engine, boolean read, AioFile file,
                                                             MemorySegment[] buffers, long position,
                                                             boolean withOptions) {
        if (withOptions) {
            return read ? engine.readVectored(file, buffers, position, RequestOptions.NONE)
                    : engine.writeVectored(file, buffers, position, RequestOptions.NONE);
        }
        return read ? engine.readVectored(file, buffers, position) : engine.writeVectored(file, buffers, position);
    }

    private static MemorySegment[] filled(int n, MemorySegment segment) {
        MemorySegment[] array = new MemorySegment[n];
        java.util.Arrays.fill(array, segment);
        return array;
    }

    private static Object sync(AioContext context, boolean fsync, AioFile file, RequestOptions options) {
        if (fsync) {
            context.prepareFsync(file, 1, options);
        } else {
            context.prepareFdatasync(file, 1, options);
        }
        return null;
    }

    private static Object asyncRead(String form, AioAsynchronousFileChannel channel, ByteBuffer buffer, long position) {
        return switch (form) {
            case "future" -> channel.read(buffer, position);
            case "completable" -> channel.readAsync(buffer, position);
            default -> {
                CompletableFuture<Integer> outcome = new CompletableFuture<>();
                channel.read(buffer, position, null, handlerFor(outcome));
                yield outcome;
            }
        };
    }

    private static Object asyncWrite(String form, AioAsynchronousFileChannel channel, ByteBuffer buffer,
                                     long position) {
        return switch (form) {
            case "future" -> channel.write(buffer, position);
            case "completable" -> channel.writeAsync(buffer, position);
            default -> {
                CompletableFuture<Integer> outcome = new CompletableFuture<>();
                channel.write(buffer, position, null, handlerFor(outcome));
                yield outcome;
            }
        };
    }

    private static CompletionHandler<Integer, Object> handlerFor(CompletableFuture<Integer> outcome) {
        return new CompletionHandler<>() {
            @Override
            public void completed(Integer result, Object attachment) {
                outcome.complete(result);
            }

            @Override
            public void failed(Throwable error, Object attachment) {
                outcome.completeExceptionally(error);
            }
        };
    }

    /** A call that blocked for longer than a bad input should ever make it block. */
    static final class StillBlocked extends AssertionError {
        StillBlocked(String message) {
            super(message);
        }
    }

    /** Runs {@code call} on a daemon thread and gives up waiting (leaving it behind) after some seconds. */
    private static Object withinSeconds(int seconds, Call call) throws Throwable {
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                outcome.complete(call.run(f));
            } catch (Throwable t) {
                outcome.completeExceptionally(t);
            }
        });
        try {
            return outcome.get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause();
        } catch (TimeoutException e) {
            throw new StillBlocked("still blocked after " + seconds + " s");
        }
    }

    /** What the caller got: the exception thrown at once, or the failure of the returned future. */
    private static Throwable outcomeOf(Case c) {
        Object result;
        try {
            result = c.call.run(f);
        } catch (Throwable t) {
            return t;
        }
        if (result instanceof Future<?> future) {
            try {
                Object value = future.get(HANG_SECONDS, TimeUnit.SECONDS);
                return new AssertionError("accepted: the future completed with " + value);
            } catch (ExecutionException | CompletionException e) {
                return e.getCause();
            } catch (TimeoutException e) {
                return new StillBlocked("the future was still pending after " + HANG_SECONDS + " s");
            } catch (Throwable t) {
                return t;
            }
        }
        return new AssertionError("accepted: the call returned " + result);
    }

    // --------------------------------------------------------------- the test

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldRejectWithATypedExceptionAndAMessageToActOn(Case c) throws Exception {
        long bouncedBefore = f.engine.bouncePool().outstandingBytes();
        Throwable outcome = outcomeOf(c);
        try {
            assertThat(outcome).as("what %s gave", c.name).isInstanceOf(c.type);
            if (c.fragment != null) {
                assertThat(outcome.getMessage()).as("message of %s", c.name).contains(c.fragment);
            }
        } catch (AssertionError e) {
            e.addSuppressed(outcome);
            throw e;
        } finally {
            // Whatever it gave, the bad request must not be left prepared or in flight anywhere.
            if (f.context.prepared() != 0 || f.context.inFlight() != 0) {
                String state = f.context.toString();
                f.context.close(); // drops what was prepared without submitting it
                f.context = AioContext.open(8);
                throw new AssertionError(c.name + " left the shared context at " + state);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (f.engine.outstanding() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(f.engine.outstanding()).as("requests left in the engine").isZero();
        assertThat(f.engine.bouncePool().outstandingBytes()).as("bounce buffer bytes not given back")
                .isEqualTo(bouncedBefore);
    }

    /** The entry points that take a buffer: PublicApiSecurityTest checks each has heap and closed-arena cases. */
    static List<String> caseNames() {
        return CASES.stream().map(Case::name).toList();
    }
}
