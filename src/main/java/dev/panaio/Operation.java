package dev.panaio;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;

/**
 * One request on its way through an {@link AioEngine}: what to do, the memory
 * the kernel may touch, and who to tell when it is done.
 *
 * <p>An operation is filled in by the submitting thread, handed to an engine
 * thread through a concurrent queue (which orders the two), and finished there
 * exactly once: by {@link #finish(long)} with the kernel's result, or by
 * {@link #fail(Throwable)} if it never reached the kernel. Until then it holds
 * the buffers it names, so they stay reachable while the kernel uses them.
 */
abstract class Operation {
    enum Kind { READ, WRITE, FSYNC, FDSYNC, POLL }

    final Kind kind;
    final AioFile file;
    final Pollable pollTarget;
    /** The memory the kernel reads or writes: the caller's own, or a bounce buffer. */
    MemorySegment segment;
    final long position;
    final int pollEvents;

    /** Keeps the caller's buffer reachable while the kernel may use it. */
    Object keepAlive;
    /** A bounce buffer to copy back from (reads) and to give back to its pool when done. */
    AlignedBufferPool.Buffer bounce;
    AlignedBufferPool bouncePool;
    /** For reads through a bounce buffer: where the bytes read go. */
    ByteBuffer copyBackTo;
    /** A caller's ByteBuffer whose position advances by the bytes transferred, as channels do. */
    ByteBuffer advance;
    /** Channels report a read of 0 bytes at or past end of file as -1. */
    boolean eofAsMinusOne;
    /** Whether the operation holds one of its engine loop's pending permits. */
    boolean holdsPermit;
    /** A result found on the calling thread and deferred behind a running callback (FileIo's trampoline). */
    long inlineResult;

    Operation(Kind kind, AioFile file, Pollable pollTarget, MemorySegment segment, long position, int pollEvents) {
        this.kind = kind;
        this.file = file;
        this.pollTarget = pollTarget;
        this.segment = segment;
        this.position = position;
        this.pollEvents = pollEvents;
    }

    /** Names the call whose result this is, for error messages: "aio", "preadv2", "pwritev2". */
    String resultCall = "aio";

    /**
     * Called once with the kernel's result (bytes, or -errno): on an engine
     * thread, a pool thread, or the submitting thread.
     */
    void finish(long result) {
        long value;
        try {
            value = settle(result);
        } catch (Throwable t) {
            failed(t);
            return;
        }
        succeed(value);
    }

    /**
     * The caller-side bookkeeping of a result, done exactly once: copy a
     * bounced read back, give the bounce buffer back to its pool (whatever
     * happens), advance the caller's buffer, map end of file.
     *
     * @return the value the caller sees
     * @throws IOException for a {@code -errno} result
     */
    final long settle(long result) throws IOException {
        try {
            if (bounce != null && copyBackTo != null && result > 0) {
                // Relative to the caller's position, which advances below with the other bookkeeping.
                MemorySegment.copy(bounce.segment, 0, MemorySegment.ofBuffer(copyBackTo), 0, result);
            }
        } finally {
            releaseBounce();
        }
        if (result < 0) {
            throw ErrnoExceptions.forResult(resultCall, describe(), (int) -result);
        }
        if (advance != null && result > 0) {
            advance.position(advance.position() + (int) result);
        }
        return eofAsMinusOne && result == 0 && segment.byteSize() > 0 ? -1 : result;
    }

    final void releaseBounce() {
        if (bounce != null) {
            bouncePool.release(bounce);
            bounce = null;
        }
        keepAlive = null;
    }

    /** Called once when the operation fails without a kernel result. */
    void fail(Throwable error) {
        releaseBounce();
        failed(error);
    }

    abstract void succeed(long value);

    abstract void failed(Throwable error);

    String describe() {
        return switch (kind) {
            case READ, WRITE -> kind + " " + segment.byteSize() + " bytes at " + position + " of " + file.path();
            case FSYNC, FDSYNC -> kind + " " + file.path();
            case POLL -> "POLL 0x" + Integer.toHexString(pollEvents) + " on " + pollTarget;
        };
    }

    /** Completes a CompletableFuture: the engine's own API and the channels' convenience methods. */
    static final class ToFuture extends Operation {
        final CompletableFuture<Integer> future = new CompletableFuture<>();

        ToFuture(Kind kind, AioFile file, Pollable pollTarget, MemorySegment segment, long position, int pollEvents) {
            super(kind, file, pollTarget, segment, position, pollEvents);
        }

        @Override
        void succeed(long value) {
            future.complete((int) value);
        }

        @Override
        void failed(Throwable error) {
            future.completeExceptionally(error);
        }
    }

    /**
     * Wakes one thread parked in {@link #await()}: the blocking channel calls.
     * A virtual thread unmounts while it waits, pinning no carrier.
     */
    static final class ToWaiter extends Operation {
        private final Thread waiter = Thread.currentThread();
        private volatile boolean done;
        private long result;
        private Throwable error;

        /** The memory is the channel's to choose ({@link FileIo} sets {@link #segment}). */
        ToWaiter(Kind kind, AioFile file, long position) {
            super(kind, file, null, null, position, 0);
        }

        /**
         * Only records the result: the bookkeeping ({@link #settle}) runs on
         * the waiting thread, which alone may touch a buffer confined to it.
         */
        @Override
        void finish(long result) {
            this.result = result;
            done = true;
            LockSupport.unpark(waiter);
        }

        @Override
        void fail(Throwable error) {
            this.error = error;
            done = true;
            LockSupport.unpark(waiter);
        }

        @Override
        void succeed(long value) {
            throw new AssertionError("a waiter settles its own result");
        }

        @Override
        void failed(Throwable error) {
            throw new AssertionError("a waiter settles its own result");
        }

        /**
         * Waits for the result, ignoring interrupts until it has arrived: the
         * kernel may still be writing into the caller's buffer, so returning
         * early would hand it back while in use. The interrupt status is kept.
         */
        long await() throws IOException {
            boolean interrupted = false;
            while (!done) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (error != null) {
                releaseBounce();
                if (error instanceof IOException io) {
                    throw io;
                }
                if (error instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new IOException(error);
            }
            return settle(result);
        }
    }

    /** Calls an NIO CompletionHandler: the AsynchronousFileChannel contract. */
    static final class ToHandler<A> extends Operation {
        private final CompletionHandler<Integer, ? super A> handler;
        private final A attachment;
        private final Executor executor;

        /** The memory is the channel's to choose ({@link FileIo} sets {@link #segment}). */
        ToHandler(Kind kind, AioFile file, long position, CompletionHandler<Integer, ? super A> handler,
                  A attachment, Executor executor) {
            super(kind, file, null, null, position, 0);
            this.handler = handler;
            this.attachment = attachment;
            this.executor = executor;
        }

        @Override
        void succeed(long value) {
            if (executor == null) {
                completedHere((int) value);
                return;
            }
            dispatch(() -> completedHere((int) value));
        }

        @Override
        void failed(Throwable error) {
            if (executor == null) {
                failedHere(error);
                return;
            }
            dispatch(() -> failedHere(error));
        }

        private void completedHere(int value) {
            try {
                handler.completed(value, attachment);
            } catch (Throwable t) {
                reportHandlerFailure(t);
            }
        }

        private void failedHere(Throwable error) {
            try {
                handler.failed(error, attachment);
            } catch (Throwable t) {
                reportHandlerFailure(t);
            }
        }

        /** A throwing handler must not take the engine down: report it as an uncaught exception. */
        private static void reportHandlerFailure(Throwable t) {
            Thread current = Thread.currentThread();
            current.getUncaughtExceptionHandler().uncaughtException(current, t);
        }

        private void dispatch(Runnable call) {
            try {
                executor.execute(call);
            } catch (RejectedExecutionException e) {
                call.run();
            }
        }
    }
}
