package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

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
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
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
 * <p>The cases are split by API surface into {@link BadInputContextTest},
 * {@link BadInputEngineTest}, {@link BadInputChannelTest} and
 * {@link BadInputResourceTest}; this class holds what they share: the
 * fixture, the table's types, the helpers and the {@link #check} of one case.
 *
 * <p>{@link PublicApiSecurityTest} checks that every public method taking a
 * MemorySegment or ByteBuffer has a "heap" case and a "closed arena" case
 * in these tables, by the case names' signature prefix.
 */
abstract class BadInputTable {
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

    /** The kernel's MAX_RW_COUNT on 4 KiB pages: 2 GiB - 4096. */
    static final long MAX_RW = Integer.MAX_VALUE & -4096L;
    static final CompletionConsumer IGNORE = (tag, result) -> { };
    /** How long a call with bad input may block before the case counts it as hung: they take milliseconds. */
    static final int HANG_SECONDS = 2;
    static final int MAX_AIO_NR = (int) Math.min(Integer.MAX_VALUE, aioMaxNr());

    static long aioMaxNr() {
        try {
            return Long.parseLong(java.nio.file.Files.readAllLines(Path.of("/proc/sys/fs/aio-max-nr")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            return Long.MAX_VALUE;
        }
    }

    // ------------------------------------------------------------- helpers

    static Object prepareRead(Fixture x, AioFile file, Object buffer, long position, boolean withOptions)
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

    static Object prepareWrite(Fixture x, AioFile file, Object buffer, long position, boolean withOptions)
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

    static Object vectored(Fixture x, boolean read, AioFile file, MemorySegment[] buffers, long position,
                                   RequestOptions options) throws MisalignedIoException {
        if (read) {
            x.context.prepareReadVectored(file, buffers, position, 1, options);
        } else {
            x.context.prepareWriteVectored(file, buffers, position, 1, options);
        }
        return null;
    }

    static AioFile file(Fixture x, boolean read) {
        return read ? x.readOnly : x.writeOnly;
    }

    static CompletableFuture<Integer> engineVectored(AioEngine engine, boolean read, AioFile file,
                                                             MemorySegment[] buffers, long position,
                                                             boolean withOptions) {
        if (withOptions) {
            return read ? engine.readVectored(file, buffers, position, RequestOptions.NONE)
                    : engine.writeVectored(file, buffers, position, RequestOptions.NONE);
        }
        return read ? engine.readVectored(file, buffers, position) : engine.writeVectored(file, buffers, position);
    }

    static MemorySegment[] filled(int n, MemorySegment segment) {
        MemorySegment[] array = new MemorySegment[n];
        java.util.Arrays.fill(array, segment);
        return array;
    }

    static Object sync(AioContext context, boolean fsync, AioFile file, RequestOptions options) {
        if (fsync) {
            context.prepareFsync(file, 1, options);
        } else {
            context.prepareFdatasync(file, 1, options);
        }
        return null;
    }

    static Object asyncRead(String form, AioAsynchronousFileChannel channel, ByteBuffer buffer, long position) {
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

    static Object asyncWrite(String form, AioAsynchronousFileChannel channel, ByteBuffer buffer,
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

    static CompletionHandler<Integer, Object> handlerFor(CompletableFuture<Integer> outcome) {
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
    static Object withinSeconds(int seconds, Call call) throws Throwable {
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
    static Throwable outcomeOf(Case c) {
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

    // --------------------------------------------------------------- the check

    /** The one test of every case: the type and message it gives, and nothing left behind. */
    void check(Case c) throws Exception {
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
        return java.util.stream.Stream.of(BadInputContextTest.cases(), BadInputEngineTest.cases(),
                BadInputChannelTest.cases(), BadInputResourceTest.cases()).flatMap(List::stream).map(Case::name)
                .toList();
    }
}
