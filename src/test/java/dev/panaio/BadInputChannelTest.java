package dev.panaio;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static java.nio.file.StandardOpenOption.READ;

/**
 * Bad input to AioFileChannel and AioAsynchronousFileChannel: the cases of {@link BadInputTable}'s
 * table for this API surface, each checked as {@link BadInputTable#check} says.
 */
class BadInputChannelTest extends BadInputTable {
    static final List<Case> CASES = new ArrayList<>();

    private static void add(String name, Class<? extends Throwable> type, String fragment, Call call) {
        CASES.add(new Case(name, type, fragment, call));
    }

    static List<Case> cases() {
        return CASES;
    }

    static {
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
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldRejectWithATypedExceptionAndAMessageToActOn(Case c) throws Exception {
        check(c);
    }
}
