package dev.panaio.internal.context;

import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;
import dev.panaio.MisalignedIoException;
import dev.panaio.Pollable;
import dev.panaio.RequestOptions;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.gen.aio_abi.aio_abi_h;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Objects;

/**
 * The checks a request passes in Java before the kernel sees it: native
 * memory, read-only destinations, bounds, the file's access mode and open
 * state, the alignment of direct I/O, poll masks and rw flags. Shared by the
 * context, the engine and the channels, so that each rule is written once.
 *
 * <p>Thread-safe: stateless.
 */
public final class RequestChecks {
    private RequestChecks() {
    }

    /** A caller's segment: native, writable when read into, and of an arena still open. */
    public static void checkSegment(MemorySegment segment, boolean destination) {
        Objects.requireNonNull(segment, "buffer");
        if (!segment.isNative()) {
            throw new IllegalArgumentException("AIO needs native memory, not a heap segment: allocate the buffer "
                    + "from an Arena");
        }
        if (destination && segment.isReadOnly()) {
            throw new IllegalArgumentException("cannot read into a read-only segment");
        }
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("the buffer's arena is already closed");
        }
    }

    /** A thread that is never started: a thread-confined segment is not accessible by it. */
    private static final Thread ANOTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    /**
     * An asynchronous request completes on another thread, which may not
     * touch memory confined to the caller's: such a buffer is refused up
     * front, in the words of the JDK's asynchronous channels.
     *
     * @throws IllegalArgumentException if {@code segment} is confined to a thread
     */
    public static void checkNotConfined(MemorySegment segment) {
        if (!segment.isAccessibleBy(ANOTHER_THREAD)) {
            throw new IllegalArgumentException("Buffer is thread confined: an asynchronous request completes on "
                    + "another thread; allocate the buffer from AioArena.open() (used in place), Arena.ofShared() or "
                    + "Arena.ofAuto()");
        }
    }

    /** The segment of a caller's ByteBuffer, which must be direct, writable when read into, and alive. */
    public static MemorySegment segmentOf(ByteBuffer buffer, boolean destination) {
        Objects.requireNonNull(buffer, "buffer");
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("AIO needs a direct ByteBuffer (ByteBuffer.allocateDirect), not a "
                    + "heap buffer");
        }
        if (destination && buffer.isReadOnly()) {
            throw new IllegalArgumentException("cannot read into a read-only ByteBuffer");
        }
        MemorySegment segment = MemorySegment.ofBuffer(buffer);
        if (!segment.scope().isAlive()) {
            // A buffer viewing memory of a closed arena: its address points into freed memory.
            throw new IllegalStateException("the buffer's arena is already closed");
        }
        return segment;
    }

    /** A file that a request names must be open: a closed one is refused at once. */
    public static void checkOpen(AioFile file) {
        Objects.requireNonNull(file, "file");
        if (!file.isOpen()) {
            throw new IllegalStateException(SharedSecrets.fileAccess().handle(file) + " is closed");
        }
    }

    /**
     * The most one read or write request may transfer: the kernel's
     * {@code MAX_RW_COUNT} ({@code INT_MAX} rounded down to a page) with the
     * largest page size Linux uses, 64 KiB, so 2 GiB - 64 KiB; 2 GiB - 4096 on
     * 4 KiB pages. The kernel would silently transfer no more than that, a
     * short count that looks like end of file.
     */
    public static final long MAX_TRANSFER = Integer.MAX_VALUE & -65536L;

    /**
     * A read or write of {@code length} bytes at {@code position}: the file
     * is open for it, the range fits in a long, the length is at most
     * {@link #MAX_TRANSFER}, and direct I/O is aligned.
     * An {@code address} of 0 skips the memory check (vectored requests check
     * each buffer).
     */
    public static void checkTransfer(boolean read, AioFile file, long address, long length, long position,
                                     RequestOptions options) throws MisalignedIoException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        checkOpen(file);
        if (read ? !file.isReadable() : !file.isWritable()) {
            throw new IllegalArgumentException(file.path() + " was not opened for " + (read ? "reading" : "writing"));
        }
        if (position < 0) {
            throw new IllegalArgumentException("position must not be negative: " + position);
        }
        if (position + length < 0) {
            throw new IllegalArgumentException("position " + position + " + length " + length + " overflows a long");
        }
        if (length > MAX_TRANSFER) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "a request of %d bytes is more than the "
                    + "kernel transfers in one call (%d, its MAX_RW_COUNT); it would stop short there: split it",
                    length, MAX_TRANSFER));
        }
        if (address != 0) {
            checkDirectMemory(file, address, "buffer address");
        }
        checkDirectOffset(file, position, "file position");
        checkDirectOffset(file, length, "length");
    }

    /**
     * The buffers of a vectored request: 1 to UIO_MAXIOV of them, each a
     * valid segment aligned for direct I/O.
     *
     * @return their total length
     */
    public static long checkVectored(AioFile file, MemorySegment[] buffers, boolean read)
            throws MisalignedIoException {
        Objects.requireNonNull(buffers, "buffers");
        int max = aio_abi_h.UIO_MAXIOV(); // read here, not in a static: only once native access is checked
        if (buffers.length == 0 || buffers.length > max) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "a vectored request takes 1 to %d buffers (UIO_MAXIOV), not %d", max, buffers.length));
        }
        long total = 0;
        for (MemorySegment buffer : buffers) {
            checkSegment(buffer, read);
            checkDirectMemory(file, buffer.address(), "buffer address");
            checkDirectOffset(file, buffer.byteSize(), "buffer length");
            total += buffer.byteSize();
            if (total < 0) {
                throw new IllegalArgumentException("total length of the buffers overflows a long");
            }
        }
        return total;
    }

    /** A poll names its target and a non-empty 16-bit mask of poll(2) events. */
    public static void checkPoll(Pollable target, int events) {
        Objects.requireNonNull(target, "target");
        checkPollEvents(events);
    }

    /** The poll(2) events of a poll: a non-empty mask of 16 bits. */
    public static void checkPollEvents(int events) {
        if (events <= 0 || events > 0xffff) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "poll events must be a non-empty mask of 16 bits (POLLIN = 0x1, POLLOUT = 0x4...), not 0x%x",
                    events));
        }
    }

    /**
     * Sync and poll requests take no rw flags: the kernel would answer
     * EINVAL. {@code requests} names them in the message, with its verb:
     * "poll takes".
     */
    public static void checkNoRwFlags(RequestOptions options, String requests) {
        Objects.requireNonNull(options, "options");
        if (SharedSecrets.optionsAccess().rwFlags(options) != 0) {
            throw new IllegalArgumentException(requests + " no rw flags: " + options);
        }
    }

    /** On a direct file, {@code address} must meet the memory alignment. */
    public static void checkDirectMemory(AioFile file, long address, String what) throws MisalignedIoException {
        if (file.isDirect()) {
            DirectAlignment rules = knownAlignment(file);
            if (!rules.isMemoryAligned(address)) {
                throw misaligned(file, what, "0x" + Long.toHexString(address), rules.memory(),
                        "allocate it with arena.allocate(size, " + rules.memory() + ")");
            }
        }
    }

    /** On a direct file, {@code value} (a position or length) must meet the offset alignment. */
    public static void checkDirectOffset(AioFile file, long value, String what) throws MisalignedIoException {
        if (file.isDirect()) {
            DirectAlignment rules = knownAlignment(file);
            if (!rules.isOffsetAligned(value)) {
                throw misaligned(file, what, Long.toString(value), rules.offset(),
                        "round it to a multiple of " + rules.offset());
            }
        }
    }

    /** A {@link MisalignedIoException}, whose constructor is not public API. */
    public static MisalignedIoException misaligned(String message, long alignment) {
        return SharedSecrets.exceptionAccess().misalignedIoException(message, alignment);
    }

    private static DirectAlignment knownAlignment(AioFile file) {
        try {
            return file.alignment();
        } catch (IOException e) {
            throw new IllegalStateException("cannot learn the direct I/O alignment of " + file.path(), e);
        }
    }

    private static MisalignedIoException misaligned(AioFile file, String what, String value, long alignment,
                                                    String fix) {
        // The JDK's own sentence first, for the two checks the JDK makes too, so that code matching its
        // message keeps working; then panaio's, which names the file and the fix.
        String jdk = switch (what) {
            case "file position" -> "Channel position (" + value + ") is not a multiple of the block size ("
                    + alignment + "): ";
            case "length" -> "Number of remaining bytes (" + value + ") is not a multiple of the block size ("
                    + alignment + "): ";
            default -> "";
        };
        return misaligned(String.format(Locale.ROOT,
                "%sdirect I/O on %s needs the %s to be a multiple of %d, and %s is not: %s", jdk, file.path(), what,
                alignment, value, fix), alignment);
    }
}
