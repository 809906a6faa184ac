package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.DirectAlignment;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;
import java.util.function.Function;

/**
 * {@code transferTo} and {@code transferFrom} of a panaio {@link FileChannel}:
 * a bounded copy loop through one direct scratch buffer and the channel's own
 * positional reads and writes, with the JDK's checks, results and rules for a
 * transfer cut short by a close or an interrupt.
 *
 * <p>Thread-safe, as the channel it works on.
 */
public final class ChannelTransfers {
    /** The largest piece a transfer moves at a time, through one direct scratch buffer. */
    private static final int TRANSFER_SIZE = 64 * 1024;

    /** One positional read or write of the channel, with the JDK's interrupt and close semantics. */
    @FunctionalInterface
    public interface PositionalIo {
        long transfer(ByteBuffer buffer, long position, boolean read) throws IOException;
    }

    private final FileChannel channel;
    private final AioFile file;
    private final PositionalIo io;
    private final Function<Channel, AioFile> panaioFileOf;

    /**
     * The transfers of {@code channel}, a panaio channel on {@code file}.
     *
     * @param io           the channel's own positional reads and writes
     * @param panaioFileOf the file of another channel when it is a panaio one too, else null
     */
    public ChannelTransfers(FileChannel channel, AioFile file, PositionalIo io,
                            Function<Channel, AioFile> panaioFileOf) {
        this.channel = channel;
        this.file = file;
        this.io = io;
        this.panaioFileOf = panaioFileOf;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!channel.isOpen()) {
            throw new ClosedChannelException();
        }
    }

    /** {@link FileChannel#transferTo}, with its checks in the JDK's order. */
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        ensureOpen();
        Objects.requireNonNull(target, "target");
        if (!target.isOpen()) {
            throw new ClosedChannelException();
        }
        if (!file.isReadable()) {
            throw new NonReadableChannelException();
        }
        try {
            checkOtherWritable(target);
        } catch (ClosedChannelException e) { // the probe met an interrupt: both close, as the JDK
            throw transferFailed(e, target);
        }
        if (position < 0 || count < 0) {
            throw new IllegalArgumentException();
        }
        try {
            long size = channel.size();
            if (position > size) {
                return 0;
            }
            // Bounded by the size where there is something before it; at the
            // size, copy until the end of the file, as the JDK does: a procfs
            // file reads as size 0 and still has content.
            long remaining = size - position;
            if (remaining > 0) {
                count = Math.min(count, remaining);
            }
            if (count == 0) {
                return 0;
            }
            AlignedScratch aligned = new AlignedScratch();
            return copy(position, count, (dst, at) -> readForTransfer(dst, at, aligned),
                    (scratch, at) -> target.write(scratch));
        } catch (ClosedChannelException e) {
            throw transferFailed(e, target);
        }
    }

    /** One transfer's aligned memory for a direct file, made on its first read and reused by the next ones. */
    private static final class AlignedScratch {
        ByteBuffer buffer;
    }

    /**
     * Reads for a transfer at any position. A direct file reads whole aligned
     * blocks around the range, through the transfer's aligned scratch memory.
     */
    private int readForTransfer(ByteBuffer dst, long at, AlignedScratch scratch) throws IOException {
        if (!file.isDirect()) {
            return (int) io.transfer(dst, at, true);
        }
        DirectAlignment alignment = file.alignment();
        long block = Math.max(alignment.offset(), alignment.memory());
        long start = at - at % block;
        long end = at + dst.remaining();
        int length = (int) ((end - start + block - 1) / block * block);
        ByteBuffer aligned = scratch.buffer;
        if (aligned == null || aligned.capacity() < length) {
            aligned = scratch.buffer = ByteBuffer.allocateDirect(length + (int) alignment.memory())
                    .alignedSlice((int) alignment.memory());
        }
        aligned.clear().limit(length);
        long n = io.transfer(aligned, start, true);
        int skip = (int) (at - start);
        if (n <= skip) {
            return n < 0 ? (int) n : -1;
        }
        int useful = (int) Math.min(n - skip, dst.remaining());
        dst.put(dst.position(), aligned, skip, useful);
        dst.position(dst.position() + useful);
        return useful;
    }

    /** {@link FileChannel#transferFrom}, with its checks in the JDK's order. */
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        ensureOpen();
        Objects.requireNonNull(src, "src");
        if (!src.isOpen()) {
            throw new ClosedChannelException();
        }
        try {
            checkOtherReadable(src);
        } catch (ClosedChannelException e) {
            throw transferFailed(e, src);
        }
        if (!file.isWritable()) {
            throw new NonWritableChannelException();
        }
        if (position < 0 || count < 0) {
            throw new IllegalArgumentException();
        }
        try {
            if (count == 0) {
                return 0;
            }
            // from the source's position, which advances, as the JDK
            return copy(position, count, (scratch, at) -> src.read(scratch),
                    (scratch, at) -> (int) io.transfer(scratch, at, false));
        } catch (ClosedChannelException e) {
            throw transferFailed(e, src);
        }
    }

    /** One step of a transfer: a read into the scratch buffer, or a write out of it, for file offset {@code at}. */
    @FunctionalInterface
    private interface Step {
        int run(ByteBuffer scratch, long at) throws IOException;
    }

    /**
     * Moves up to {@code count} bytes in pieces of at most
     * {@value #TRANSFER_SIZE}, stopping at the end of the source or when the
     * target takes less than it was given (a non-blocking target, as the
     * JDK). An I/O error after some bytes moved returns the bytes moved.
     */
    private static long copy(long position, long count, Step read, Step write) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocateDirect((int) Math.min(count, TRANSFER_SIZE));
        long written = 0;
        try {
            while (written < count) {
                scratch.clear().limit((int) Math.min(count - written, scratch.capacity()));
                int n = read.run(scratch, position + written);
                if (n <= 0) {
                    break;
                }
                scratch.flip();
                int w = write.run(scratch, position + written);
                written += w;
                if (w != n) {
                    break;
                }
            }
            return written;
        } catch (IOException e) {
            if (written > 0) {
                return written;
            }
            throw e;
        }
    }

    /**
     * The JDK's rule for a transfer cut short by a closed channel: an
     * interrupt closes both channels ({@link ClosedByInterruptException}); a
     * close of either by another thread gives
     * {@link AsynchronousCloseException} and leaves the other one open.
     */
    private AsynchronousCloseException transferFailed(ClosedChannelException e, Channel other) {
        ClosedByInterruptException interrupted = null;
        if (e instanceof ClosedByInterruptException cbie) {
            interrupted = cbie;
        } else if (Thread.currentThread().isInterrupted()) {
            interrupted = new ClosedByInterruptException();
        }
        if (interrupted != null) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                interrupted.addSuppressed(suppressed);
            }
            try {
                other.close();
            } catch (IOException suppressed) {
                interrupted.addSuppressed(suppressed);
            }
            return interrupted;
        }
        if (e instanceof AsynchronousCloseException ace) {
            return ace;
        }
        var ace = new AsynchronousCloseException();
        ace.addSuppressed(e);
        return ace;
    }

    /**
     * A transfer's target that is a FileChannel must be writable, even when
     * no byte moves. panaio's own channels are asked; any other FileChannel
     * is probed with an empty positional write, which checks and moves
     * nothing.
     */
    private void checkOtherWritable(WritableByteChannel target) throws IOException {
        AioFile panaio = panaioFileOf.apply(target);
        if (panaio != null) {
            if (!panaio.isWritable()) {
                throw new NonWritableChannelException();
            }
        } else if (target instanceof FileChannel other) {
            other.write(ByteBuffer.allocate(0), 0);
        }
    }

    /** As {@link #checkOtherWritable}, for a transfer's source: it must be readable. */
    private void checkOtherReadable(ReadableByteChannel src) throws IOException {
        AioFile panaio = panaioFileOf.apply(src);
        if (panaio != null) {
            if (!panaio.isReadable()) {
                throw new NonReadableChannelException();
            }
        } else if (src instanceof FileChannel other) {
            other.read(ByteBuffer.allocate(0), 0);
        }
    }
}
