package dev.panaio.internal.engine;

import dev.panaio.AioException;
import dev.panaio.AioFile;
import dev.panaio.Pollable;
import dev.panaio.RequestOptions;
import dev.panaio.internal.sys.ErrnoExceptions;

import java.lang.foreign.MemorySegment;

/**
 * What one request asks of the kernel: immutable, made once by the layer
 * that chose its memory, and read by every layer after it. Who is told of its
 * completion is a separate {@link CompletionSink}.
 *
 * @param kind       what to do
 * @param file       the file read, written or synced; null for a poll
 * @param pollTarget what a poll waits on; null otherwise
 * @param segment    the memory the kernel reads or writes (the caller's, or a bounce buffer); null for sync,
 *                   poll and a vectored read or write
 * @param vector     the buffers of a vectored read or write ({@code IOCB_CMD_PREADV}/{@code PWRITEV}), filled or
 *                   written in order; null otherwise. Owned by the request: nobody changes the array
 * @param position   the file position of a read or write
 * @param pollEvents the poll(2) bits a poll waits for
 * @param call       the call whose result this is, for error messages: "aio", "preadv2", "pwritev2"
 * @param options    the caller's rw flags and priority for a read or write, never an eventfd (the engine signals
 *                   its own); {@link RequestOptions#NONE} otherwise
 */
public record Request(Kind kind, AioFile file, Pollable pollTarget, MemorySegment segment, MemorySegment[] vector,
                      long position, int pollEvents, String call, RequestOptions options) {
    /** The request's kind, one per iocb opcode panaio's engine uses. */
    public enum Kind { READ, WRITE, FSYNC, FDSYNC, POLL }

    /** A read into all of {@code dst} at {@code position}. */
    public static Request read(AioFile file, MemorySegment dst, long position, String call) {
        return read(file, dst, position, call, RequestOptions.NONE);
    }

    /** A read into all of {@code dst} at {@code position}, with the caller's flags and priority. */
    public static Request read(AioFile file, MemorySegment dst, long position, String call,
                               RequestOptions options) {
        return new Request(Kind.READ, file, null, dst, null, position, 0, call, options);
    }

    /** A write of all of {@code src} at {@code position}. */
    public static Request write(AioFile file, MemorySegment src, long position, String call) {
        return write(file, src, position, call, RequestOptions.NONE);
    }

    /** A write of all of {@code src} at {@code position}, with the caller's flags and priority. */
    public static Request write(AioFile file, MemorySegment src, long position, String call,
                                RequestOptions options) {
        return new Request(Kind.WRITE, file, null, src, null, position, 0, call, options);
    }

    /** One vectored read filling {@code dsts} in order from {@code position} (the request keeps the array). */
    public static Request readVectored(AioFile file, MemorySegment[] dsts, long position, String call,
                                       RequestOptions options) {
        return new Request(Kind.READ, file, null, null, dsts, position, 0, call, options);
    }

    /** One vectored write of {@code srcs} in order at {@code position} (the request keeps the array). */
    public static Request writeVectored(AioFile file, MemorySegment[] srcs, long position, String call,
                                        RequestOptions options) {
        return new Request(Kind.WRITE, file, null, null, srcs, position, 0, call, options);
    }

    /** The bytes a read or write asks for: its segment's size, or its vector's total. */
    public long length() {
        if (segment != null) {
            return segment.byteSize();
        }
        long total = 0;
        if (vector != null) {
            for (MemorySegment buffer : vector) {
                total += buffer.byteSize();
            }
        }
        return total;
    }

    /** An fsync or fdatasync of {@code file}. */
    public static Request sync(Kind kind, AioFile file) {
        return new Request(kind, file, null, null, null, 0, 0, "aio", RequestOptions.NONE);
    }

    /** A one-shot poll for {@code events} on {@code target}. */
    public static Request poll(Pollable target, int events) {
        return new Request(Kind.POLL, null, target, null, null, 0, events, "aio", RequestOptions.NONE);
    }

    /** The exception a caller sees for a {@code -errno} result of this request. */
    public AioException failure(int errno) {
        return ErrnoExceptions.forResult(call, describe(), errno);
    }

    /** The request in words, for error messages. */
    public String describe() {
        return switch (kind) {
            case READ, WRITE -> kind + (vector != null ? "V " + length() + " bytes in " + vector.length + " buffers"
                    : " " + length() + " bytes") + " at " + position + " of " + file.path()
                    + (options == RequestOptions.NONE ? "" : " with " + options);
            case FSYNC, FDSYNC -> kind + " " + file.path();
            case POLL -> "POLL 0x" + Integer.toHexString(pollEvents) + " on " + pollTarget;
        };
    }
}
