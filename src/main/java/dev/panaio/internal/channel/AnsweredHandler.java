package dev.panaio.internal.channel;

import dev.panaio.internal.engine.UncaughtExceptions;

import java.nio.channels.CompletionHandler;

/**
 * The call of a default-pool CompletionHandler whose read the page cache
 * answered on the calling thread before any request was made
 * ({@link InlineTransfers#readAtOnce}): the handler, its attachment and the
 * count (or the error), and nothing else. With no request, no bounce buffer,
 * no arena held and the caller's buffer already advanced, such a read needs
 * none of a {@link ChannelCompletion}'s bookkeeping, so it makes none.
 *
 * <p>Delivered as a {@link ChannelCompletion.ToHandler} that found its result
 * on the calling thread is: deferred until this pool thread's running handler
 * returns, or handed to the default pool ({@link HandlerChains}); never run
 * inside the call that started the read.
 *
 * <p>Immutable; {@link #callHandler} runs once, on the thread the pool or
 * the chain gives it to.
 *
 * @param <A> the attachment's type
 */
public final class AnsweredHandler<A> implements HandlerChains.HandlerCall {
    private final CompletionHandler<Integer, ? super A> handler;
    private final A attachment;
    private final int value;
    private final Throwable error;

    private AnsweredHandler(CompletionHandler<Integer, ? super A> handler, A attachment, int value,
                            Throwable error) {
        this.handler = handler;
        this.attachment = attachment;
        this.value = value;
        this.error = error;
    }

    /**
     * Delivers the count (or -1 at the end of the file) that
     * {@link InlineTransfers#readAtOnce} found to {@code handler}, on the default pool.
     *
     * @param handler    the caller's handler
     * @param attachment its attachment
     * @param value      the count, or -1
     * @param <A>        the attachment's type
     */
    public static <A> void completed(CompletionHandler<Integer, ? super A> handler, A attachment, long value) {
        deliver(new AnsweredHandler<>(handler, attachment, (int) value, null));
    }

    /**
     * Delivers the error that {@link InlineTransfers#readAtOnce} threw to {@code handler}, on the default pool.
     *
     * @param handler    the caller's handler
     * @param attachment its attachment
     * @param error      the read's failure
     * @param <A>        the attachment's type
     */
    public static <A> void failed(CompletionHandler<Integer, ? super A> handler, A attachment, Throwable error) {
        deliver(new AnsweredHandler<>(handler, attachment, 0, error));
    }

    private static void deliver(AnsweredHandler<?> call) {
        if (!HandlerChains.deferOnThisThread(call)) {
            HandlerChains.execute(call);
        }
    }

    /** Calls the handler once, here; what it throws goes to the thread's uncaught exception handler. */
    @Override
    public void callHandler() {
        call(handler, attachment, value, error);
    }

    /** The largest count {@link #boxed} has a box for: 64 KiB. */
    private static final int MAX_BOXED_BLOCKS = 128;
    /** The counts of whole 512-byte blocks up to 64 KiB, boxed once: the counts of most reads and writes. */
    private static final Integer[] BLOCK_COUNTS = new Integer[MAX_BOXED_BLOCKS];

    static {
        for (int i = 0; i < MAX_BOXED_BLOCKS; i++) {
            BLOCK_COUNTS[i] = (i + 1) * 512; // new boxes: Integer.valueOf caches only -128 to 127
        }
    }

    /**
     * {@code value} boxed for a handler's {@code completed}: a whole number of
     * 512-byte blocks up to 64 KiB (a 4 KiB read's count) from boxes made once,
     * anything else by {@link Integer#valueOf}. A handler cannot tell: the
     * specification promises an equal Integer, not a new one.
     */
    static Integer boxed(int value) {
        int blocks = value >>> 9;
        if ((value & 511) == 0 && blocks >= 1 && blocks <= MAX_BOXED_BLOCKS) {
            return BLOCK_COUNTS[blocks - 1];
        }
        return value;
    }

    /**
     * Calls {@code handler}'s {@code completed} with {@code value}, or its
     * {@code failed} with a non-null {@code error}; what it throws goes to the
     * thread's uncaught exception handler, so that a throwing handler takes
     * down neither a pool thread's chain nor an engine thread.
     */
    static <A> void call(CompletionHandler<Integer, ? super A> handler, A attachment, int value, Throwable error) {
        try {
            if (error == null) {
                handler.completed(boxed(value), attachment);
            } else {
                handler.failed(error, attachment);
            }
        } catch (Throwable t) {
            UncaughtExceptions.report(t);
        }
    }
}
