package dev.panaio.internal.channel;

import dev.panaio.internal.jfr.FileIoEvent;
import dev.panaio.internal.engine.ClaimedTask;
import dev.panaio.internal.engine.CompletionSink;
import dev.panaio.internal.engine.DeliveryThreads;
import dev.panaio.internal.engine.EngineLoop;
import dev.panaio.internal.engine.RelayedWakes;
import dev.panaio.internal.engine.LoopSubmission;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.engine.UncaughtExceptions;
import dev.panaio.internal.memory.AlignedBufferPool;
import dev.panaio.internal.memory.ArenaUses;
import dev.panaio.internal.memory.CallerMemory;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;

/**
 * The sink of one channel read or write, with the channel layer's own
 * bookkeeping of its result: copy a bounced read back, give the bounce buffer
 * (or the use of a panaio arena) back, advance the caller's ByteBuffer, report end of file as -1. Only
 * {@link FileIo} writes that bookkeeping, before the request leaves it;
 * the engine and the pool only call {@link #finish} or {@link #fail}.
 *
 * <p>Three ways to deliver the value: {@link ToFuture}, {@link ToWaiter} (a
 * blocking call parked on it) and {@link ToHandler} (an NIO CompletionHandler).
 */
public abstract sealed class ChannelCompletion extends LoopSubmission implements CompletionSink {
    /** What was asked of the kernel; set once the memory is chosen. */
    Request request;
    /**
     * Keeps the caller's buffer reachable while the kernel may use it: for a
     * buffer the garbage collector frees, handed to the kernel by address
     * (its request's segment holds nothing), this is what keeps its memory.
     */
    private Object keepAlive;
    /** The use of a panaio arena whose memory the kernel uses in place, held until the result is settled. */
    private ArenaUses held;
    /** As {@link #held}, for the buffers of a vectored request: one entry per buffer, null where none is held. */
    private ArenaUses[] heldEach;
    /** A bounce buffer to copy back from (reads) and to give back to its pool when done. */
    private AlignedBufferPool.Buffer bounce;
    private AlignedBufferPool bouncePool;
    /** For reads through a bounce buffer: where the bytes read go. */
    private ByteBuffer copyBackTo;
    /** For vectored reads through a bounce buffer: where the bytes read go, buffer after buffer. */
    private ByteBuffer[] copyBackToEach;
    /** The caller's ByteBuffer, whose position advances by the bytes transferred, as channels do. */
    private ByteBuffer advance;
    /** The caller's buffers of a vectored request: each advances by its share of the count, in order. */
    private ByteBuffer[] advanceEach;
    /** Channels report a read of 0 bytes at or past end of file as -1. */
    private boolean eofAsMinusOne;
    /** The JFR event of this read or write, or null when it is not enabled. */
    FileIoEvent event;
    /**
     * The channel that made this request, kept reachable while the request is
     * (in the engine, the kernel or the pool's queue), as the JDK's pool tasks
     * keep theirs: a channel dropped without {@code close()} is not closed by
     * its Cleaner under its own requests. Null for the blocking channel, whose
     * caller holds it for the call.
     */
    private Object channel;
    /** The channel's count of requests in the kernel, for a request that may reach it; else null. */
    private KernelRequests countedBy;
    /** Whether {@link #countedBy} counts this request in now. */
    private boolean inKernel;

    ChannelCompletion() {
    }

    /** The caller's buffer: kept reachable, and advanced by the count transferred. */
    final void transfersWith(ByteBuffer buffer, boolean read) {
        keepAlive = buffer;
        advance = buffer;
        eofAsMinusOne = read;
    }

    /** The caller's buffers of one vectored request, in order: kept reachable, and advanced by their shares. */
    final void transfersWith(ByteBuffer[] buffers, boolean read) {
        keepAlive = buffers;
        advanceEach = buffers;
        eofAsMinusOne = read;
    }

    /** The kernel uses the caller's buffers in place; {@code uses} (null entries allowed) holds their arenas. */
    final void holdsEach(ArenaUses[] uses) {
        this.heldEach = uses;
    }

    /** A vectored request goes through {@code buffer}; a read's bytes are copied on to {@code copyBackTo}. */
    final void bouncesThrough(AlignedBufferPool pool, AlignedBufferPool.Buffer buffer, ByteBuffer[] copyBackTo) {
        this.bouncePool = pool;
        this.bounce = buffer;
        this.copyBackToEach = copyBackTo;
    }

    /** The kernel uses the caller's memory in place, and {@code uses} holds its panaio arena until the end. */
    final void holds(ArenaUses uses) {
        this.held = uses;
    }

    /** The request goes through {@code buffer} from {@code pool}; a read's bytes are copied on to {@code copyBackTo}. */
    final void bouncesThrough(AlignedBufferPool pool, AlignedBufferPool.Buffer buffer, ByteBuffer copyBackTo) {
        this.bouncePool = pool;
        this.bounce = buffer;
        this.copyBackTo = copyBackTo;
    }

    /** Keeps {@code owner} reachable as long as this request is: see {@link #channel}. */
    public final void madeBy(Object owner) {
        this.channel = owner;
    }

    /** The request may reach the kernel (AIO or a pool thread): {@code requests} counts it while it is there. */
    final void countedBy(KernelRequests requests) {
        this.countedBy = requests;
    }

    /** Counts the request in, once per try at the kernel; false once its channel's close has begun. */
    @Override
    public final boolean enteringKernel() {
        if (inKernel || countedBy == null) {
            return true;
        }
        inKernel = countedBy.enter();
        return inKernel;
    }

    @Override
    public final void handedBack() {
        leftKernel();
    }

    /**
     * Counts the request out: the kernel has finished with it, and any bounce
     * copy is done. Before the caller's code runs, which may wait for the
     * channel's close.
     */
    final void leftKernel() {
        if (inKernel) {
            inKernel = false;
            countedBy.leave();
        }
    }

    /** Whether the result is settled on the calling thread, which alone may touch a buffer confined to it. */
    boolean settlesOnCaller() {
        return false;
    }

    /**
     * Called once with the kernel's result (bytes, or -errno): on an engine
     * thread, a pool thread, or the submitting thread.
     */
    @Override
    public void finish(long result) {
        long value;
        try {
            value = settle(result);
        } catch (Throwable t) {
            leftKernel();
            failed(t);
            return;
        }
        leftKernel();
        succeed(value);
    }

    /** Called once when the request fails without a kernel result. */
    @Override
    public void fail(Throwable error) {
        releaseBounce();
        leftKernel();
        failed(error);
    }

    /**
     * As {@link #finish}, on a blocking-pool thread: the bookkeeping (a
     * bounced read's copy into the caller's buffer) runs here, before the
     * pool's task ends, and the caller's code (a future's dependents, a
     * handler) runs on {@link DeliveryThreads}: caller code that waits for the
     * pool must not run on it.
     */
    @Override
    public void finishOffPool(long result) {
        if (deliversOnPool()) {
            finish(result);
            return;
        }
        long value;
        try {
            value = settle(result);
        } catch (Throwable t) {
            leftKernel();
            DeliveryThreads.deliver(() -> failed(t));
            return;
        }
        leftKernel();
        DeliveryThreads.deliver(() -> succeed(value));
    }

    /**
     * As {@link #finishOffPool}, for a pool task that finishes many requests
     * one after another ({@link WriteQueue}): where delivering the value only
     * hands the caller's code to an executor of the caller's (a
     * CompletionHandler with an executor), the bookkeeping runs here and that
     * hand-off is returned, for the task to pass off the pool together with
     * others in one go; else the value is delivered as {@link #finishOffPool}
     * does it, and null returned. Caller code never runs where a batch waits
     * (unless no thread at all can be made: {@link DeliveryThreads#deliver}).
     */
    Runnable finishOffPoolBatched(long result) {
        finishOffPool(result);
        return null;
    }

    /** As {@link #fail}, on a blocking-pool thread: see {@link #finishOffPool}. */
    @Override
    public void failOffPool(Throwable error) {
        if (deliversOnPool()) {
            fail(error);
            return;
        }
        releaseBounce();
        leftKernel();
        DeliveryThreads.deliver(() -> failed(error));
    }

    /**
     * Whether delivering the result runs no caller code on the pool thread,
     * so that {@link #finishOffPool} and {@link #failOffPool} may deliver it
     * right there, without a delivery thread's hand-off: a waiter is only
     * woken, a handler is only handed to the default pool.
     */
    boolean deliversOnPool() {
        return false;
    }

    /**
     * The channel's bookkeeping of a result, done exactly once: copy a
     * bounced read back, give the bounce buffer back to its pool (whatever
     * happens), advance the caller's buffer, map end of file.
     *
     * @return the value the caller sees
     * @throws IOException for a {@code -errno} result
     */
    final long settle(long result) throws IOException {
        try {
            if (bounce != null && (copyBackTo != null || copyBackToEach != null) && result > 0) {
                // Relative to the caller's position, which advances below with the other bookkeeping. The copy
                // checks that the caller's arena is alive: a closed one fails the read, never the JVM.
                try {
                    if (copyBackTo != null) {
                        MemorySegment.copy(bounce.segment, 0, MemorySegment.ofBuffer(copyBackTo), 0, result);
                    } else {
                        copyBackEach(result);
                    }
                } catch (IllegalStateException | WrongThreadException e) {
                    throw CallerMemory.copyBackFailed(e);
                }
            }
        } finally {
            releaseBounce();
        }
        if (result < 0) {
            completeEvent(0);
            throw request.failure((int) -result);
        }
        if (advance != null && result > 0) {
            advance.position(advance.position() + (int) result);
        }
        if (advanceEach != null && result > 0) {
            long left = result;
            for (int i = 0; i < advanceEach.length && left > 0; i++) {
                ByteBuffer buffer = advanceEach[i];
                int n = (int) Math.min(left, buffer.remaining());
                buffer.position(buffer.position() + n);
                left -= n;
            }
        }
        long value = eofAsMinusOne && result == 0 && request.length() > 0 ? -1 : result;
        completeEvent(value);
        return value;
    }

    /** A bounced vectored read's bytes, in order, each buffer from its own position (advanced afterwards). */
    private void copyBackEach(long result) {
        long at = 0;
        for (ByteBuffer buffer : copyBackToEach) {
            long n = Math.min(result - at, buffer.remaining());
            if (n <= 0) {
                break;
            }
            MemorySegment.copy(bounce.segment, at, MemorySegment.ofBuffer(buffer), 0, n);
            at += n;
        }
    }

    /** Records who did the transfer in the JFR event, if there is one. */
    final void answeredBy(String who) {
        FileIoEvent e = event;
        if (e != null) {
            e.answeredBy(who);
        }
    }

    private void completeEvent(long value) {
        FileIoEvent e = event;
        if (e != null) {
            event = null;
            e.complete(value);
        }
    }

    final void releaseBounce() {
        if (bounce != null) {
            bouncePool.release(bounce);
            bounce = null;
        }
        ArenaUses uses = held;
        if (uses != null) {
            held = null;
            uses.release();
        }
        ArenaUses[] each = heldEach;
        if (each != null) {
            heldEach = null;
            for (ArenaUses use : each) {
                if (use != null) {
                    use.release();
                }
            }
        }
        keepAlive = null;
    }

    abstract void succeed(long value);

    abstract void failed(Throwable error);

    /** Completes a CompletableFuture: the asynchronous channel's future methods. */
    public static final class ToFuture extends ChannelCompletion {
        private final CompletableFuture<Integer> future = new CompletableFuture<>();

        /** The future the value goes to. */
        public CompletableFuture<Integer> future() {
            return future;
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
     *
     * <p>A waiter parked in {@link #await()} may be handed other virtual
     * threads to unpark as it leaves ({@link RelayedWakes}); it unparks every
     * one of them, whatever the result. One that has not reached the wait,
     * or has left it, refuses them, and the engine thread unparks them
     * itself, so no wake-up ever waits for a thread that is not waiting.
     */
    public static final class ToWaiter extends ChannelCompletion implements RelayedWakes.Waiter {
        /** {@link #relay}: the waiter is parked in {@link #await()}, or about to be. */
        private static final Object AWAITING = new Object();
        /** {@link #relay}: the waiter has left {@link #await()}. */
        private static final Object LEFT = new Object();
        private static final VarHandle RELAY;

        static {
            try {
                RELAY = MethodHandles.lookup().findVarHandle(ToWaiter.class, "relay", Object.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final Thread waiter = Thread.currentThread();
        private volatile boolean done;
        /**
         * Null until the waiter enters {@link #await()}, then {@link #AWAITING}
         * until it leaves ({@link #LEFT}), unless an engine thread gives it,
         * in between, the other virtual threads its reap finished the waits
         * of ({@link RelayedWakes}), as a {@code Thread[]} it unparks on
         * leaving.
         */
        @SuppressWarnings("unused") // through RELAY
        private Object relay;
        private long result;
        private Throwable error;

        @Override
        boolean settlesOnCaller() {
            return true;
        }

        /**
         * Only records the result: the bookkeeping ({@link #settle}) runs on
         * the waiting thread. The request leaves the kernel's count here, not
         * after that bookkeeping: a thread interrupting the waiter closes the
         * channel while it holds the waiter's interrupt lock, which the
         * waiter needs before it can settle.
         */
        @Override
        public void finish(long result) {
            this.result = result;
            leftKernel();
            done = true;
            wake();
        }

        @Override
        public void fail(Throwable error) {
            this.error = error;
            leftKernel();
            done = true;
            wake();
        }

        /**
         * Unparks the waiter, unless the waiter itself finished the request
         * (a page-cache hit): it is not parked, it reads {@code done} before
         * it would park, and a permit left behind would only make its next
         * park return at once for nothing. A virtual thread whose request an
         * engine thread reaped is woken with the others that reap finished,
         * once it is over or before it delivers to caller code
         * ({@link EngineLoop#wakeAfterReap}): the first of them by the engine
         * thread, the rest by that first one ({@link #relay}).
         */
        private void wake() {
            if (waiter != Thread.currentThread() && !(waiter.isVirtual() && EngineLoop.wakeAfterReap(this))) {
                LockSupport.unpark(waiter);
            }
        }

        @Override
        public Thread thread() {
            return waiter;
        }

        /** Takes {@code others} only while the waiter is in {@link #await()}, which unparks them on leaving. */
        @Override
        public boolean relay(Thread[] others) {
            return RELAY.compareAndSet(this, AWAITING, others);
        }

        /** Only wakes the waiter, which runs its own code: nothing to move off the pool. */
        @Override
        boolean deliversOnPool() {
            return true;
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
        public long await() throws IOException {
            RELAY.setVolatile(this, AWAITING);
            boolean interrupted = false;
            while (!done) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
            // First, before anything here can throw: the threads relayed to this one wait for nothing else.
            if (RELAY.getAndSet(this, LEFT) instanceof Thread[] others) {
                for (Thread other : others) {
                    try {
                        LockSupport.unpark(other);
                    } catch (Throwable t) {
                        UncaughtExceptions.report(t); // the others still wait for theirs
                    }
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
    public static final class ToHandler<A> extends ChannelCompletion implements HandlerChains.HandlerCall {
        private final CompletionHandler<Integer, ? super A> handler;
        private final A attachment;
        private final Executor executor;
        /** Set on the calling thread when it found the result itself, before the call returned. */
        private boolean foundByCaller;
        /** The value for {@code completed}, once settled. */
        private int value;
        /** The failure for {@code failed}, or null. */
        private Throwable error;

        /** With a null executor, the handler runs where the request completes. */
        public ToHandler(CompletionHandler<Integer, ? super A> handler, A attachment, Executor executor) {
            this.handler = handler;
            this.attachment = attachment;
            this.executor = executor;
        }

        /**
         * Only with the process-wide default pool (a cached pool: its
         * {@code execute} neither runs the handler in place nor waits), one
         * hand-off instead of two. A caller's executor might do either, so its
         * hand-off goes through a delivery thread.
         */
        @Override
        boolean deliversOnPool() {
            return executor == DefaultHandlerExecutor.get();
        }

        /** The submitter is called back; it does not wait for the result in its call. */
        @Override
        public boolean submitterMayWait() {
            return false;
        }

        /**
         * The calling thread found the result itself (the page cache answered
         * at once): on a default-pool thread that is running a handler, this
         * request's handler then runs on that thread, once that handler
         * returns ({@link HandlerChains}).
         */
        void foundByCaller() {
            foundByCaller = true;
        }

        /** With an executor, what runs off the pool only hands the handler to it. */
        @Override
        Runnable finishOffPoolBatched(long result) {
            if (executor == null || deliversOnPool()) {
                return super.finishOffPoolBatched(result); // the default pool: handed to it right here
            }
            long settled;
            try {
                settled = settle(result);
            } catch (Throwable t) {
                leftKernel();
                return () -> failed(t);
            }
            leftKernel();
            return () -> succeed(settled);
        }

        @Override
        void succeed(long value) {
            this.value = (int) value;
            deliver();
        }

        @Override
        void failed(Throwable error) {
            this.error = error;
            deliver();
        }

        private void deliver() {
            if (executor == null) {
                callHandler();
            } else if (!deliversOnPool()) {
                dispatch();
            } else if (!foundByCaller || !HandlerChains.deferOnThisThread(this)) {
                HandlerChains.execute(this);
            }
        }

        /** Calls the handler once, here; what it throws goes to the thread's uncaught exception handler. */
        @Override
        public void callHandler() {
            AnsweredHandler.call(handler, attachment, value, error);
        }

        /**
         * Hands the handler call to the caller's executor. One that refuses it
         * (shut down) or throws otherwise gets it made on a delivery thread
         * rather than lost: never here, which may be the thread that started
         * the operation, or an engine thread. And since an executor may queue
         * the call before it throws, the call is claimed once, by whichever
         * runs it first.
         */
        private void dispatch() {
            UserCall call = new UserCall();
            try {
                executor.execute(call);
            } catch (RuntimeException | Error e) {
                if (call.claim()) {
                    DeliveryThreads.deliver(this::callHandler);
                }
                if (!(e instanceof RejectedExecutionException)) {
                    UncaughtExceptions.report(e);
                }
            }
        }

        /** The handler call handed to the caller's executor: made once, whoever claims it first. */
        private final class UserCall extends ClaimedTask {
            @Override
            protected void runClaimed() {
                callHandler();
            }
        }
    }
}
