package dev.panaio.internal.engine;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.AsynchronousCloseException;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import dev.panaio.AioContext;
import dev.panaio.CompletionConsumer;
import dev.panaio.EventFd;
import dev.panaio.MisalignedIoException;
import dev.panaio.RequestOptions;
import dev.panaio.SubmitException;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.jfr.BackpressureWaitEvent;
import dev.panaio.internal.jfr.SubmitBatchEvent;
import dev.panaio.internal.jfr.SubmitRetryEvent;
import dev.panaio.internal.stats.PublishedCounter;
import dev.panaio.internal.stats.SubmitCounters;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.Syscalls;

/**
 * One engine thread and the context it owns.
 *
 * <p>Submitting threads put operations on a lock-free queue and return; the
 * engine thread moves them into the context, submits them two per io_submit,
 * and reaps completions from the ring. It sleeps in a blocking read of one
 * eventfd, which both the kernel (one count per completion, through
 * {@code IOCB_FLAG_RESFD}) and submitters (when the thread is asleep) signal;
 * a default-pool handler's signal for a request that calls a handler back
 * waits until the handler returns
 * ({@link HeldSignals}). So submitters never block in io_submit under load,
 * and a burst of submissions from many threads is coalesced into half as many
 * system calls. Completions bound for the default pool's handlers leave in one
 * hand-off when the loop runs out of work ({@link #runWhenIdle}); virtual
 * threads whose waits a reap finished are woken once the reap is over, the
 * first by this thread and the rest by that first one ({@link RelayedWakes}).
 *
 * <p>One exception saves the hand-off when there is no load: a loop that goes
 * to sleep with nothing queued or in flight, after a busy period in which it
 * never had more than one request outstanding, offers its context to the next
 * submitter of a direct read or write ({@link #enqueue}), which then prepares
 * and submits that one request itself instead of waking this thread for it.
 * The completion still comes back here, through the eventfd, as every other.
 * Who may touch the context and the slot bookkeeping is decided by the baton
 * of {@link IdleContextOffer}.
 *
 * <p>Thread-safety: {@link #enqueue} and {@link #shutdown} from any thread;
 * everything else runs on the engine thread, or on the submitter that holds
 * the baton.
 */
public final class EngineLoop implements Runnable, CompletionConsumer {
    /**
     * Most requests per io_submit. While io_submit handles more than two
     * requests the kernel plugs the block queue, so the first would wait for
     * the last to be prepared; pairs reach the device as they are prepared and
     * still take half the system calls of one per call (docs/BENCHMARKS.md,
     * "Submission policy").
     */
    static final int MAX_PER_SUBMIT = 2;

    /** The longest a busy loop holds what {@link #runWhenIdle} set before it runs it anyway. */
    static final long MAX_IDLE_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

    /** How long, at most, a dying loop reaps what the kernel completed before io_destroy discards the rest. */
    private static final long FATAL_REAP_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int RUNNING = 0;
    private static final int CLOSING = 1;
    private static final SharedSecrets.EventFdAccess EVENT_FDS = SharedSecrets.eventFdAccess();
    private static final SharedSecrets.ContextAccess CONTEXTS = SharedSecrets.contextAccess();

    static {
        // Loaded and registered with JFR now, not in a submitter's first wait, where an interrupt must end the
        // wait itself, not land in class initialisation.
        BackpressureWaitEvent.enabled();
        SubmitBatchEvent.enabled();
        SubmitRetryEvent.enabled();
    }

    private final AioContext context;
    private final EventFd wakeups;
    private final RequestOptions notify;
    private final ConcurrentLinkedQueue<LoopSubmission> pending = new ConcurrentLinkedQueue<>();
    /** Handed back by a rejected batch: they go first. Engine thread only. */
    private final ArrayDeque<LoopSubmission> retry = new ArrayDeque<>();
    private final Semaphore pendingPermits;
    private final int maxPending;
    private final LoopSubmission[] inKernel;
    private final int[] freeIds;
    private int freeCount;
    private final Thread thread;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicBoolean wakeupSent = new AtomicBoolean();
    /** Who may touch the context and the slot bookkeeping; the idle loop's offer of it to the one caller. */
    private final IdleContextOffer offer = new IdleContextOffer();
    private volatile int state = RUNNING;
    private volatile boolean sleeping;
    private final Arena scratch = Arena.ofShared();
    private final MemorySegment wakeupCount = scratch.allocate(ValueLayout.JAVA_LONG);
    private final MemorySegment errno = Syscalls.errnoCapture(scratch);
    /** Completions delivered: written by the engine thread only. */
    private final PublishedCounter completed = new PublishedCounter();
    /** Submitters parked for room: bumped by any of them. */
    private final LongAdder backpressureWaits = new LongAdder();

    /**
     * Opens the loop's context and eventfd and starts its thread, named
     * {@code name}. If any step fails (io_setup refused, no eventfd, no
     * thread for the loop), what the earlier ones opened is closed again
     * before the failure is thrown: a caller that retries, waiting for
     * {@code fs.aio-max-nr} or a thread limit, leaks nothing.
     */
    public EngineLoop(int capacity, int maxPending, String name) throws IOException {
        AioContext openedContext = null;
        EventFd openedWakeups = null;
        try {
            openedContext = AioContext.open(capacity);
            openedWakeups = EventFd.open();
            this.context = openedContext;
            this.wakeups = openedWakeups;
            this.notify = RequestOptions.NONE.withNotify(wakeups);
            int slots = context.capacity();
            this.inKernel = new LoopSubmission[slots];
            this.freeIds = new int[slots];
            for (int i = 0; i < slots; i++) {
                freeIds[i] = slots - 1 - i;
            }
            this.freeCount = slots;
            this.pendingPermits = new Semaphore(maxPending);
            this.maxPending = maxPending;
            this.thread = new EngineThread(this, name);
            thread.start(); // last: once it runs, the thread owns what is open, and closes it as it ends
        } catch (IOException | RuntimeException | Error e) {
            closeAfterFailedOpen(openedContext, openedWakeups, e);
            throw e;
        }
    }

    /** Closes what a constructor that failed with {@code failure} had opened; a failure closing it is added to it. */
    private void closeAfterFailedOpen(AioContext openedContext, EventFd openedWakeups, Throwable failure) {
        if (openedContext != null) {
            try {
                openedContext.close(); // nothing was submitted: io_destroy has nothing to wait for
            } catch (RuntimeException | Error e) {
                failure.addSuppressed(e);
            }
        }
        if (openedWakeups != null) {
            try {
                openedWakeups.close();
            } catch (IOException | RuntimeException | Error e) {
                failure.addSuppressed(e);
            }
        }
        scratch.close();
    }

    /** Requests the kernel can hold at once on this loop. */
    public int capacity() {
        return inKernel.length;
    }

    /** Whether the calling thread is this loop's. */
    public boolean isEngineThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * On an engine thread, has {@code action} run the next time its loop
     * finds nothing to move or reap (before it sleeps, before each step of
     * its shutdown, and as it ends), in place of any action set before. The
     * default pool's handlers use it to reach a pool thread in one hand-off
     * per busy stretch, not one per reap: handed off at once, each would wake
     * a pool thread that preempts this one on a busy CPU, and the two would
     * take turns with one completion each (docs/BENCHMARKS.md, sixth run).
     *
     * @param action what to run; it reports its own failures
     * @return false on any other thread: nothing is set
     */
    public static boolean runWhenIdle(Runnable action) {
        if (Thread.currentThread() instanceof EngineThread engine) {
            if (engine.whenIdle == null) {
                engine.whenIdleSince = System.nanoTime();
            }
            engine.whenIdle = action;
            return true;
        }
        return false;
    }

    /**
     * A busy loop does not hold what {@link #runWhenIdle} set for longer than
     * {@link #MAX_IDLE_WAIT_NANOS}: under a steady stream of other work it
     * might not be idle for a long time.
     */
    private void idleIfHeldTooLong() {
        EngineThread engine = (EngineThread) Thread.currentThread();
        if (engine.whenIdle != null && System.nanoTime() - engine.whenIdleSince > MAX_IDLE_WAIT_NANOS) {
            idleNow();
        }
    }

    /**
     * Runs what {@link #runWhenIdle} set, and again what that set in turn
     * (a handler run here when the pool refused it may hand off another);
     * engine thread only.
     */
    private void idleNow() {
        EngineThread engine = (EngineThread) Thread.currentThread();
        Runnable action;
        while ((action = engine.whenIdle) != null) {
            engine.whenIdle = null;
            try {
                action.run();
            } catch (Throwable t) {
                UncaughtExceptions.report(t);
            }
        }
    }

    /**
     * On an engine thread that is reaping, has the wait of {@code waiter}'s
     * virtual thread end once the reap is over, together with the others
     * that reap finished ({@link RelayedWakes}).
     *
     * @param waiter the finished wait
     * @return false on any other thread, or outside a reap: the caller
     *         unparks the waiter itself
     */
    public static boolean wakeAfterReap(RelayedWakes.Waiter waiter) {
        return Thread.currentThread() instanceof EngineThread engine && engine.wakes.add(waiter);
    }

    /** Whether the calling thread is the thread of any engine loop, of any engine. */
    public static boolean isAnyEngineThread() {
        return Thread.currentThread() instanceof EngineThread;
    }

    /**
     * Queues an operation. Blocks (parks) while the loop already has
     * maxPending operations waiting for room in the kernel, except on an
     * engine thread (of this engine or any other: a completion handler
     * submitting more work), which must never wait for an engine thread. An
     * interrupt ends the wait: the sink then fails with
     * {@link InterruptedIOException} and the interrupt status is kept, so that
     * a blocking channel call closes its channel with
     * {@link java.nio.channels.ClosedByInterruptException}, as the JDK's do.
     */
    public void enqueue(Request request, CompletionSink sink) {
        if (state != RUNNING) {
            sink.fail(new AsynchronousCloseException());
            return;
        }
        LoopSubmission op = LoopSubmission.of(request, sink); // the sink itself where it can be
        if (offer.isOffered() && submitsItself(request) && submitIdle(op)) {
            return;
        }
        if (!isAnyEngineThread()) {
            // tryAcquire first: a free permit is taken even by an interrupted thread, as a started write would be.
            if (!pendingPermits.tryAcquire()) {
                backpressureWaits.increment();
                BackpressureWaitEvent waited = BackpressureWaitEvent.beginIfEnabled(maxPending);
                try {
                    pendingPermits.acquire();
                    if (waited != null) {
                        waited.complete();
                    }
                } catch (InterruptedException e) {
                    if (waited != null) {
                        waited.complete();
                    }
                    Thread.currentThread().interrupt();
                    sink.fail(new InterruptedIOException("interrupted while waiting for room in the AioEngine's "
                            + "queue (maxPending requests are already waiting)"));
                    return;
                }
            }
            op.holdsPermit = true;
        }
        pending.offer(op);
        if (state != RUNNING && pending.remove(op)) {
            // Closed between the check and the offer, and the loop had not taken it: fail it here, once.
            releasePermit(op);
            sink.fail(new AsynchronousCloseException());
            return;
        }
        if (sleeping && (sink.submitterMayWait() || !HeldSignals.held(this))
                && wakeupSent.compareAndSet(false, true)) {
            signal();
        }
    }

    /** Wakes the loop if it sleeps and no one has yet: a wake-up a handler's thread held back ({@link HeldSignals}). */
    void wakeIfAsleep() {
        if (sleeping && wakeupSent.compareAndSet(false, true)) {
            signal();
        }
    }

    /**
     * Only direct reads and writes: io_submit of a buffered request runs the
     * I/O itself, and a sync or poll may wait, where the caller must not.
     */
    private static boolean submitsItself(Request request) {
        Request.Kind kind = request.kind();
        return (kind == Request.Kind.READ || kind == Request.Kind.WRITE) && request.file().isDirect();
    }

    /**
     * The idle loop's shortcut: prepares and submits {@code op} on the
     * calling thread if it wins the offered baton. Its completion is reaped
     * by the engine thread, which the kernel wakes through the eventfd.
     *
     * @return false if the request must go through the queue after all
     */
    private boolean submitIdle(LoopSubmission op) {
        if (!offer.tryTake()) {
            return false;
        }
        try {
            if (state != RUNNING || !pending.isEmpty() || freeCount == 0) {
                // A close on its way (the queue fails the request once, as any other), or a request queued since
                // the offer, which goes first.
                return false;
            }
            if (!op.sink.enteringKernel()) {
                return false; // its channel is closing: the engine thread fails it, as any queued request
            }
            int id = freeIds[--freeCount];
            try {
                prepare(op.request, id);
            } catch (RuntimeException | MisalignedIoException | Error e) {
                freeIds[freeCount++] = id;
                op.sink.handedBack();
                return false; // the engine thread prepares it again and fails it there, as it always has
            }
            inKernel[id] = op;
            SubmitBatchEvent batch = SubmitBatchEvent.beginIfEnabled(1);
            try {
                int submitted = context.submit();
                if (batch != null) {
                    batch.complete(submitted);
                }
            } catch (SubmitException e) {
                // Rejected, so never started: the engine thread submits it again and reports a second refusal.
                if (batch != null) {
                    batch.complete(e.accepted());
                }
                take(id);
                op.sink.handedBack();
                return false;
            } catch (RuntimeException | Error e) {
                // The context is broken, as it would be for the engine thread: the request stays the loop's, whose
                // fatal path delivers or fails it once with everything else.
                offer.callerFailed(e);
                signal();
                return true;
            }
            offer.countCallerSubmit();
            return true;
        } finally {
            offer.giveBack();
        }
    }

    private void signal() {
        try {
            wakeups.write(1);
        } catch (IOException e) {
            // Only when the eventfd is closed: the loop has ended and failed or finished everything.
        }
    }

    /** Starts the shutdown: no new operations; the loop fails queued ones and waits for the kernel's. */
    public void shutdown() {
        state = CLOSING;
        if (!isEngineThread()) {
            signal();
        }
    }

    /** Waits for the loop's thread to end; at once on that thread itself. */
    public void awaitTermination() {
        if (isEngineThread()) {
            return;
        }
        boolean interrupted = false;
        for (;;) {
            try {
                terminated.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Requests queued or in the kernel. */
    public int outstanding() {
        return pending.size() + context.inFlight();
    }

    /** Requests waiting in the queue, not yet taken by the engine thread (a snapshot for monitoring). */
    public int queued() {
        return pending.size();
    }

    /** Requests in the kernel now. */
    public int inFlight() {
        return context.inFlight();
    }

    /** Completions delivered so far. */
    public long completed() {
        return completed.get();
    }

    /** Requests their submitter prepared and submitted itself, on an idle loop, without waking this thread. */
    public long callerSubmits() {
        return offer.callerSubmits();
    }

    /** Whether the loop, asleep and idle, offers its context to the next submitter now (a snapshot). */
    boolean offersToSubmitter() {
        return offer.isOffered();
    }

    /** Whether the engine thread is asleep, or about to be (a snapshot). */
    boolean isSleeping() {
        return sleeping;
    }

    /** Times a submitter parked because the queue held maxPending requests. */
    public long backpressureWaits() {
        return backpressureWaits.sum();
    }

    /** The context's io_submit counts. */
    public SubmitCounters submitCounters() {
        return CONTEXTS.submitCounters(context);
    }

    @Override
    public void run() {
        Throwable fatal = null;
        try {
            while (turn()) {
                // each turn is a call of its own (below)
            }
        } catch (Throwable t) {
            fatal = t;
        } finally {
            terminate(fatal);
        }
    }

    /**
     * One turn of the loop: moves what is queued into the kernel and reaps
     * what it finished; with neither to do, sleeps until a completion or a
     * submitter wakes it, or takes a step of the shutdown.
     *
     * <p>A method of its own, called once per turn, rather than the body of
     * the endless loop in {@link #run}: the JIT compiles a method once it has
     * been called often enough, but a loop that never returns only by
     * on-stack replacement, which here left the engine thread interpreting
     * its loop for seconds into a run (docs/BENCHMARKS.md, sixth run).
     *
     * @return false once the shutdown has finished
     * @throws Throwable whatever breaks the loop: the engine thread then fails or finishes everything and ends
     */
    private boolean turn() throws Throwable {
        int moved = moveToKernel();
        offer.noteOutstanding(context.inFlight() + retry.size());
        RelayedWakes wakes = ((EngineThread) Thread.currentThread()).wakes;
        wakes.holdDuringReap();
        int reaped;
        try {
            reaped = context.reap(this);
        } finally {
            wakes.wakeAll(); // now, not once idle: the next io_submit may take a while
        }
        if (moved > 0 || reaped > 0) {
            idleIfHeldTooLong();
            return true;
        }
        idleNow();
        if (state != RUNNING) {
            return !finishShutdown();
        }
        sleeping = true;
        boolean nothingToMove = (pending.isEmpty() && retry.isEmpty()) || freeCount == 0;
        if (nothingToMove && state == RUNNING) {
            // A file closed while we sleep must close its descriptor now, not when we next wake up.
            CONTEXTS.releasePinnedFile(context);
            offer.offerIfIdle(context.inFlight() == 0 && retry.isEmpty() && pending.isEmpty());
            EVENT_FDS.read(wakeups, wakeupCount, errno); // a completion or a submitter wakes us
            offer.takeBack(); // a submitter inside io_submit leaves first; then count what it added
            offer.noteOutstanding(context.inFlight());
        }
        sleeping = false;
        wakeupSent.set(false);
        return true;
    }

    /**
     * Prepares queued operations into free slots and submits them at most
     * {@link #MAX_PER_SUBMIT} at a time, each pair as soon as it is prepared.
     */
    private int moveToKernel() {
        int moved = 0;
        // Once closing, nothing more enters the kernel: a request queued since (a submitter woken by the shutdown
        // as it frees queue places) is failed by failQueued, or by enqueue's own second look at the state.
        while (freeCount > 0 && state == RUNNING) {
            LoopSubmission op = retry.pollFirst();
            if (op == null) {
                op = pending.poll();
                if (op == null) {
                    break;
                }
                releasePermit(op);
            }
            if (!op.sink.enteringKernel()) {
                // Its channel's close has begun, and waits only for the requests already counted in the kernel.
                op.sink.fail(new AsynchronousCloseException());
                continue;
            }
            int id = freeIds[--freeCount];
            try {
                prepare(op.request, id);
                inKernel[id] = op;
                moved++;
            } catch (RuntimeException | MisalignedIoException e) {
                // MisalignedIoException only if a check was skipped upstream: the engine checks before queueing.
                freeIds[freeCount++] = id;
                boolean fileClosed = op.request.file() != null && !op.request.file().isOpen();
                op.sink.fail(fileClosed ? new AsynchronousCloseException() : e);
            } catch (Error e) {
                // The request is in no queue and not in the kernel: fail it here, or nothing ever would.
                freeIds[freeCount++] = id;
                op.sink.fail(e);
                throw e;
            }
            if (context.prepared() >= MAX_PER_SUBMIT && !submitPrepared()) {
                return moved; // what io_submit handed back is first in retry; the loop comes back for it
            }
        }
        if (context.prepared() > 0) {
            submitPrepared();
        }
        return moved;
    }

    /** Submits what is prepared; false if io_submit rejected a request, whose successors are then queued first. */
    private boolean submitPrepared() {
        SubmitBatchEvent batch = SubmitBatchEvent.beginIfEnabled(context.prepared());
        try {
            int submitted = context.submit();
            if (batch != null) {
                batch.complete(submitted);
            }
            return true;
        } catch (SubmitException e) {
            if (batch != null) {
                batch.complete(e.accepted());
            }
            LoopSubmission failed = take((int) e.failedTag());
            failed.sink.fail(ErrnoExceptions.forResult("io_submit",
                    failed.request.describe() + " (rejected by io_submit)", e.errno()));
            long[] handedBack = e.unsubmittedTags();
            for (int i = handedBack.length - 1; i >= 0; i--) {
                LoopSubmission op = take((int) handedBack[i]);
                op.sink.handedBack(); // not in the kernel: a close meanwhile fails it rather than waiting for it
                retry.addFirst(op);
            }
            return false;
        }
    }

    private void prepare(Request op, int id) throws MisalignedIoException {
        switch (op.kind()) {
            // The submitter guards the memory's lifetime (CallerMemory, ChannelCompletion): in place, no second use.
            case READ, WRITE -> {
                boolean read = op.kind() == Request.Kind.READ;
                if (op.vector() != null) {
                    CONTEXTS.prepareHandedOverVectored(context, read, op.file(), op.vector(), op.position(), id,
                            withWakeups(op.options()));
                } else {
                    CONTEXTS.prepareHandedOver(context, read, op.file(), op.segment(), op.position(), id,
                            withWakeups(op.options()));
                }
            }
            case FSYNC -> context.prepareFsync(op.file(), id, notify);
            case FDSYNC -> context.prepareFdatasync(op.file(), id, notify);
            case POLL -> context.preparePoll(op.pollTarget(), op.pollEvents(), id, notify);
        }
    }

    /** The caller's flags and priority, signalling this loop's eventfd: the same object for the common NONE. */
    private RequestOptions withWakeups(RequestOptions options) {
        return options == RequestOptions.NONE ? notify : options.withNotify(wakeups);
    }

    private LoopSubmission take(int id) {
        LoopSubmission op = inKernel[id];
        inKernel[id] = null;
        freeIds[freeCount++] = id;
        return op;
    }

    private void releasePermit(LoopSubmission op) {
        if (op.holdsPermit) {
            op.holdsPermit = false;
            pendingPermits.release();
        }
    }

    /** A completion from the context: the tag is the request's index in {@code inKernel}. */
    @Override
    public void onCompletion(long tag, long result) {
        LoopSubmission op = take((int) tag);
        completed.increment();
        if (!(op.sink instanceof RelayedWakes.Waiter) && Thread.currentThread() instanceof EngineThread engine) {
            // The caller's code may run in this delivery and wait for a virtual thread woken earlier in the reap.
            engine.wakes.wakeBeforeCallerCode();
        }
        try {
            op.sink.finish(result);
        } catch (Throwable t) {
            // Delivery code failed (a future's dependent threw synchronously...): the engine carries on.
            UncaughtExceptions.report(t);
        }
    }

    /**
     * One step of the shutdown: fail what never reached the kernel, cancel
     * polls (which may never complete by themselves), wait for the rest.
     *
     * @return true once nothing is outstanding
     */
    private boolean finishShutdown() {
        failQueued();
        idleNow(); // the handlers of what failQueued failed must not wait out the await below
        if (context.inFlight() == 0) {
            return true;
        }
        for (int id = 0; id < inKernel.length; id++) {
            if (inKernel[id] != null && inKernel[id].request.kind() == Request.Kind.POLL) {
                context.cancel(id);
            }
        }
        context.await(1, 50, TimeUnit.MILLISECONDS, this);
        return false;
    }

    private void failQueued() {
        LoopSubmission op;
        while ((op = retry.pollFirst()) != null) {
            op.sink.fail(new AsynchronousCloseException());
        }
        while ((op = pending.poll()) != null) {
            releasePermit(op);
            op.sink.fail(new AsynchronousCloseException());
        }
    }

    /**
     * On the fatal path, before io_destroy discards completions: delivers the
     * real result of every request the kernel has finished or finishes within
     * a bound, so that only requests with no result are failed. Polls, which
     * may never complete, are cancelled first.
     */
    private void reapWhatTheKernelFinished() {
        long deadline = System.nanoTime() + FATAL_REAP_NANOS;
        try {
            for (int id = 0; id < inKernel.length; id++) {
                if (inKernel[id] != null && inKernel[id].request.kind() == Request.Kind.POLL) {
                    context.cancel(id);
                }
            }
            while (context.inFlight() > 0 && deadline - System.nanoTime() > 0) {
                context.await(1, 50, TimeUnit.MILLISECONDS, this);
                idleNow();
            }
        } catch (Throwable t) {
            // The context itself is broken (or a delivery failed again): what is left fails below.
            reportQuietly(t);
        }
    }

    /** On the fatal path, a report that fails in turn must not skip the teardown. */
    private static void reportQuietly(Throwable failure) {
        try {
            UncaughtExceptions.report(failure);
        } catch (Throwable ignored) {
            // the thread's handler threw: nothing else can be told
        }
    }

    private void terminate(Throwable fatal) {
        state = CLOSING;
        try {
            if (!offer.engineHolds()) {
                offer.takeBackQuietly(); // a submitter may be inside the context: it leaves before the teardown
            }
            failQueued();
            if (fatal != null) {
                // Should not happen; the kernel still owns buffers, so close() below waits for them.
                reportQuietly(fatal);
                reapWhatTheKernelFinished();
            }
            context.close(); // io_destroy waits for anything still in flight, and discards its completions
            for (int id = 0; id < inKernel.length; id++) {
                if (inKernel[id] != null) {
                    take(id).sink.fail(new AsynchronousCloseException());
                }
            }
        } finally {
            if (isEngineThread()) {
                idleNow();
            }
            try {
                wakeups.close();
            } catch (IOException e) {
                // nothing left to signal
            }
            scratch.close();
            terminated.countDown();
        }
    }
}
