package dev.panaio.internal.channel;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedByInterruptException;

/**
 * The blocking channel's reads and writes, made for and on the calling
 * thread, which waits for each: a page-cache hit is answered right here with
 * no per-call object ({@link InlineTransfers#readInline}, {@link InlineTransfers#writeInline}),
 * the rest of a read that missed goes to the pool, and anything else through
 * {@link FileIo} with the thread parked until its completion. The channel
 * wraps each call in its own begin and end, which give the JDK's interrupt
 * and close semantics; {@link #closeByInterrupt} is the end's interrupt case.
 *
 * <p>Thread-safe, as {@link FileIo} is; every call parks only its caller.
 */
public final class WaitingTransfers {
    private final FileIo io;

    /**
     * Transfers through the channel's {@link FileIo}.
     *
     * @param io the channel's reads and writes
     */
    public WaitingTransfers(FileIo io) {
        this.io = io;
    }

    /**
     * One positional read or write of {@code buffer}'s remaining bytes at
     * {@code position}, whose position advances by the count.
     *
     * @param buffer   the caller's buffer
     * @param position the file position
     * @param read     a read, else a write
     * @return the count, or -1 for a read at or past the end of the file
     * @throws InterruptedIOException if an interrupt ended the wait
     * @throws IOException            the request's error
     */
    public long transfer(ByteBuffer buffer, long position, boolean read) throws IOException {
        int start = buffer.position();
        long n = read ? io.inline().readInline(buffer, position) : io.inline().writeInline(buffer, position);
        if (n == InlineTransfers.MISSED) {
            n = readRest(buffer, position, buffer.position() - start);
        } else if (n == InlineTransfers.NOT_INLINE) {
            var op = new ChannelCompletion.ToWaiter();
            if (read) {
                io.read(buffer, position, op);
            } else {
                io.write(buffer, position, op);
            }
            n = op.await();
        }
        return n;
    }

    /**
     * One vectored read or write of {@code buffers[offset .. offset + length)}
     * at {@code position}, as {@link FileIo#read(ByteBuffer[], int, int, long, ChannelCompletion)}.
     *
     * @param buffers  the caller's buffers
     * @param offset   the first buffer's index
     * @param length   how many buffers
     * @param position the file position
     * @param read     a scattering read, else a gathering write
     * @return the count, or -1 for a read at or past the end of the file
     * @throws InterruptedIOException if an interrupt ended the wait
     * @throws IOException            the request's error
     */
    public long transferVector(ByteBuffer[] buffers, int offset, int length, long position, boolean read)
            throws IOException {
        var op = new ChannelCompletion.ToWaiter();
        if (read) {
            io.read(buffers, offset, length, position, op);
        } else {
            io.write(buffers, offset, length, position, op);
        }
        return op.await();
    }

    /**
     * What the page cache did not hold of a read, {@code done} bytes of which
     * were read already: on the pool. With bytes already read, it ends as a
     * short read would, with their count, unless an interrupt ended the wait.
     */
    private long readRest(ByteBuffer buffer, long position, long done) throws IOException {
        var op = new ChannelCompletion.ToWaiter();
        io.readMissed(buffer, position + done, op);
        if (done == 0) {
            return op.await();
        }
        long rest;
        try {
            rest = op.await();
        } catch (InterruptedIOException e) {
            throw e; // the channel closes by interrupt: see closeByInterrupt
        } catch (IOException e) {
            return done;
        }
        return rest < 0 ? done : done + rest;
    }

    /** The channel's {@code end(false)}, as a call that may throw. */
    @FunctionalInterface
    public interface ChannelEnd {
        /**
         * Ends the channel's blocking operation as not completed.
         *
         * @throws IOException as the channel's {@code end} reports an interrupt or a close
         */
        void endNotCompleted() throws IOException;
    }

    /**
     * Ends a read or write after an interrupt ended the wait for room in the
     * engine: then the channel is closed and this thread always gets
     * {@link ClosedByInterruptException}, whatever the order of the interrupt
     * and a close, as the JDK's channels give it. {@code end} alone cannot
     * promise that: {@code Thread.interrupt} wakes the thread before it looks
     * for the channel's interruptor, and a thread that reaches {@code end}
     * first has taken the interruptor away, so {@code end} sees no interrupt
     * and, once anything has closed the channel, reports an asynchronous close.
     *
     * @param interrupted the interrupt that ended the wait
     * @param end         the channel's {@code end(false)}
     * @param channel     the channel, closed here
     * @throws ClosedByInterruptException always, caused by {@code interrupted}
     * @throws IOException                as {@code end} reports
     */
    public static void closeByInterrupt(InterruptedIOException interrupted, ChannelEnd end, Channel channel)
            throws IOException {
        try {
            end.endNotCompleted();
        } catch (ClosedByInterruptException e) {
            e.initCause(interrupted);
            throw e; // the interruptor ran first and the channel is closed, as the JDK does it
        } catch (AsynchronousCloseException e) {
            // Missed by the interruptor, or closed by another thread first: this thread was interrupted all the same.
        }
        ClosedByInterruptException closed = new ClosedByInterruptException();
        closed.initCause(interrupted);
        try {
            channel.close();
        } catch (IOException suppressed) {
            closed.addSuppressed(suppressed);
        }
        throw closed;
    }
}
