package dev.panaio.internal.channel;

import dev.panaio.internal.engine.EngineLoop;
import dev.panaio.internal.engine.HeldSignals;
import dev.panaio.internal.engine.UncaughtExceptions;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs the CompletionHandlers that asynchronous channels hand to the
 * process-wide {@linkplain DefaultHandlerExecutor default pool}, and spares a
 * thread hand-off to a read that such a handler starts when the page cache
 * answers it at once: a handler that reads the next block of a cached file
 * would otherwise wake another pool thread for every block (tens of
 * microseconds here, against well under one for the read).
 *
 * <p>The {@code AsynchronousFileChannel} specification allows the handler of
 * an operation that completes at once to be invoked directly by the
 * initiating thread, when that thread is one of the pool's. Invoked right
 * there, it would run inside the handler that started the read, in the middle
 * of whatever that handler holds (a reentrant lock taken around the read
 * would let it in). So it is deferred instead: this thread runs it as soon as
 * the handler that started the read returns, as if the pool had given it to a
 * thread that had just become free. Limits keep what the JDK's pool
 * gives:
 * <ul>
 *   <li>A handler that, after starting such a read, waits for that read's
 *       handler (which the JDK's cached pool runs on another thread) is not
 *       left waiting: a watcher thread looks every {@value #PERIOD_MICROS}
 *       µs while handlers are deferred (or wake-ups held, below), and takes
 *       what waits behind a handler that has been running since its last
 *       look if that handler waits (for a lock, a condition or a sleep, or
 *       in a system call) or computes (it has used
 *       {@value #RUNNING_CPU_MILLIS} ms of CPU; {@link Watcher#verdict}).
 *       Behind one that waits in Java, each goes to a thread of its own, as
 *       on the JDK's pool: a waiting thread uses no CPU, and any of them may
 *       wait too. Behind one asleep in a system call, entering a monitor or
 *       computing, they go as one chain per CPU that no chain uses, and at
 *       least two: halves, so that handlers that all wait start within a
 *       few looks, without a thread each for what only looked like a wait
 *       (the JVM's own waits, on a kernel that does not say where a thread
 *       sleeps).</li>
 *   <li>A handler that is only waiting for a CPU keeps what is behind it
 *       (until {@value #RUNNABLE_LIMIT_MILLIS} ms, where nothing can tell):
 *       on another thread, those handlers would queue for the same CPUs.
 *       Moving them after every preemption, a thread each, made new threads,
 *       which preempted others: hundreds of threads on two CPUs, and reads
 *       that waited seconds for a CPU.</li>
 *   <li>A chain run in place by a thread that is not the pool's (a batch
 *       the pool refused, or could make no thread for) goes to the pool after {@value #MAX_CHAINED}
 *       handlers in a row, so that it does not keep that thread for ever. A
 *       pool thread keeps its chain: handed on there, it made the cached
 *       pool add a thread whenever all of its threads were busy running
 *       chains.</li>
 * </ul>
 * So the number of chains, and of the pool's busy threads, stays what the
 * handlers' own concurrency makes it. Only while fewer chains run (or are
 * handed to the pool to run) than there are CPUs does a chain give half of
 * the handlers deferred on it to another
 * thread, every {@value #SHARE_EVERY} handlers, so that handlers that keep
 * starting cached reads use every CPU.
 *
 * <p>Handlers handed to the pool back to back by one thread (an engine
 * thread delivering what one reap found) share a pool task, up to
 * {@value #MAX_BATCH}, until a pool thread starts it: one wake-up for them
 * instead of one each. The ones behind the first wait as deferred handlers
 * do, so the watcher moves them if one waits or computes long. An engine thread holds its
 * task back until its loop has nothing else to do
 * ({@link EngineLoop#runWhenIdle}), so that the task carries everything its
 * busy stretch completed: it goes as soon as it is full, and a busy loop
 * holds it for at most 100 µs.
 *
 * <p>While as many batches have been handed to the pool, and not finished,
 * as there are CPUs, a thread that is not an engine's makes no new chain: its
 * task grows past {@value #MAX_BATCH} until a pool thread starts it, or the
 * call is deferred behind the handlers of a chain running on another pool
 * thread (one whose thread is runnable, the chains taken in turn), where the
 * watcher moves it as it moves any deferred handler. Another chain would only
 * wait for the same CPUs: with 256 handlers re-reading a cached file on two
 * CPUs, the longest call fell from 91 and 651 ms, with 16 chains or more,
 * to 8.5 and 17.7 ms (BENCHMARKS.md, ninth run). The price is a handler that
 * waits behind another chain's handlers (until the watcher moves it, if one
 * of them waits) where the JDK's pool would give it a thread; engine threads,
 * whose completions are the direct reads' handlers, are left as they were.
 *
 * <p>While a handler runs, the wake-ups of sleeping engines that its
 * requests call for wait until it returns ({@link HeldSignals}), so that the
 * engine thread does not preempt it inside its call, and one wake-up carries
 * all of them. A handler that waits for one of its requests instead of
 * returning is not left waiting: the watcher, which looks at a thread that
 * holds wake-ups as at one with deferred handlers, sends them once the same
 * handler has run a whole period.
 *
 * <p>Thread-safe: each thread that runs a batch (a pool thread, or one that
 * ran a refused batch in place) has its own state; its queue of deferred
 * handlers is shared with the watcher and, while it runs on the pool, with
 * the threads that join it (under its lock, with the flag that closes it as
 * the run ends); its held wake-ups are shared only with the watcher.
 */
final class HandlerChains {
    /** Handlers a thread that is not the pool's runs in a row before it hands the rest of a chain to the pool. */
    static final int MAX_CHAINED = 1024;
    /** The CPUs this JVM may use. */
    private static final int CPUS = Runtime.getRuntime().availableProcessors();
    /** How many handlers a pool thread's chain runs between its looks at whether a CPU could take half of it. */
    static final int SHARE_EVERY = 64;
    /** Batches handed to the pool whose run has not ended: the chains that run, or soon will. */
    private static final AtomicInteger HANDED = new AtomicInteger();
    /** The chains running on pool threads, for a thread that joins one ({@link #foldIntoRunningChain}). */
    private static final ConcurrentLinkedQueue<HandlerChains> ON_POOL = new ConcurrentLinkedQueue<>();
    /** The most handler calls one hand-off to the pool carries ({@link Batch}). */
    static final int MAX_BATCH = 16;
    /**
     * How often the watcher looks at threads with deferred handlers or held
     * wake-ups, in microseconds. Each look wakes the watcher, which on a
     * machine whose CPUs all run handlers preempts one of them; 2 ms makes
     * half the wake-ups of 1 ms, for a wait of 4 to 6 ms rather than 2 to 3
     * before a handler that waits in Java has what is behind it moved (a new
     * handler is first seen at one look, and waiting at two more). (In the A/Bs
     * of BENCHMARKS.md's ninth run, the period changed the 99.9th percentile
     * of cached reads' calls in an earlier form of the watcher, and not
     * beyond the noise in this one.)
     */
    static final long PERIOD_MICROS = 2_000;
    /** The CPU time a runnable handler uses before the watcher moves what waits behind it, in milliseconds. */
    static final long RUNNING_CPU_MILLIS = 20;
    /**
     * How long a runnable handler may sleep in {@code futex} (a native
     * library's lock, or one of the JVM's own) before the watcher moves what
     * waits behind it, in milliseconds.
     */
    static final long FUTEX_LIMIT_MILLIS = 100;
    /**
     * How long a handler may stay runnable without using that CPU time (it
     * waits for a CPU, or in a system call, which Java also calls runnable)
     * before the watcher moves what waits behind it, in milliseconds.
     */
    static final long RUNNABLE_LIMIT_MILLIS = 1_000;

    /** A handler's call, made once, by whichever thread the pool or a chain gives it to. */
    interface HandlerCall {
        /** Calls the handler; it reports what the handler throws, never throws itself. */
        void callHandler();
    }

    /** A thread's state, made when it first runs a {@link Batch} (on the pool, or in place); null until then. */
    private static final ThreadLocal<HandlerChains> PER_THREAD = new ThreadLocal<>();

    /** Whether this thread is running a handler given to the pool through {@link #execute}. Owner only. */
    private boolean running;
    /**
     * Moves as each handler starts: the watcher tells a handler that has run a
     * whole period by it not moving. Only this thread writes it, with
     * {@link #nextGeneration}'s release store rather than a volatile one: the
     * watcher, which reads it once a period, needs to see it move, not to see
     * the move before this thread's next load (a full fence per handler), and
     * a move seen late could only send the handlers deferred here to other
     * pool threads, where the JDK's pool runs every handler.
     */
    private volatile int generation;
    /** What the watcher saw of {@link #generation} at its last look. Watcher only. */
    private int seenGeneration;
    /** Whether the watcher has found the running handler running since its look before. Watcher only. */
    private boolean foundRunning;
    /** When it first found it so, by {@link System#nanoTime}. Watcher only. */
    private long runningSinceNanos;
    /** This thread's CPU time then, in nanoseconds, or -1 if unknown. Watcher only. */
    private long runningSinceCpu;
    /** This thread's CPU time at the watcher's last look, or -1 if unknown. Watcher only. */
    private long lastCpu;
    /** The watcher's looks in a row that found this thread waiting or entering a monitor. Watcher only. */
    private int waitingLooks;
    /** When the watcher first found it asleep in {@code futex} since it last ran, or -1. Watcher only. */
    private long futexSinceNanos;
    /** The watcher's looks since it found the running handler running and the thread runnable. Watcher only. */
    private int runningLooks;
    /** The thread this belongs to. */
    private final Thread owner = Thread.currentThread();
    /** Its id in the kernel, or -1 if unknown. */
    private final long tid = ThreadStates.currentTid();
    /** Handlers waiting for the running one to return, in order. Guarded by this. */
    private final ArrayDeque<HandlerCall> deferred = new ArrayDeque<>();
    /** Whether the watcher has this thread in its list. Guarded by this. */
    private boolean watched;
    /** Whether this thread runs a chain on the pool that other threads may join. Guarded by this. */
    private boolean accepting;

    /** The engine wake-ups this thread holds back while a handler runs. */
    private final HeldSignals signals = HeldSignals.forThisThread(this::watchHeld);

    private static final VarHandle GENERATION;

    static {
        try {
            GENERATION = MethodHandles.lookup().findVarHandle(HandlerChains.class, "generation", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A new handler starts on this thread. Owner only. */
    private void nextGeneration() {
        GENERATION.setRelease(this, generation + 1);
    }

    /** Made on the pool thread it belongs to. */
    private HandlerChains() {
    }

    /**
     * A first engine wake-up is held: the watcher looks at this thread until it is sent.
     *
     * @return false if the watcher's thread could not start: the caller sends the wake-up itself
     */
    private synchronized boolean watchHeld() {
        return watchLocked();
    }

    /**
     * Hands {@code call} to the default pool: it runs on a pool thread, which
     * may then run a chain behind it, together with the calls this thread
     * hands off next, until that pool thread starts ({@link Batch}); or, while
     * as many batches as CPUs are handed and unfinished, behind a running
     * chain's handlers ({@link #foldIntoRunningChain}).
     */
    static void execute(HandlerCall call) {
        Batch open = OPEN_BATCH.get();
        if (open != null && open.add(call)) {
            if (open.held && open.isFull()) {
                startHeld(open); // full: it goes now
            }
            return; // the pool thread that will run that batch is not running yet: this one rides along
        }
        if (crowded() && foldIntoRunningChain(call)) {
            return;
        }
        Batch batch = new Batch(call);
        if (EngineLoop.runWhenIdle(START_HELD)) {
            batch.held = true;
            OPEN_BATCH.set(batch);
            return;
        }
        startOpen(batch);
    }

    /**
     * As many chains handed to the pool as there are CPUs: a thread that is
     * not an engine's joins them (its open batch grows past {@value #MAX_BATCH},
     * or the call joins a running chain) rather than making another, which
     * would only wait for the same CPUs.
     */
    private static boolean crowded() {
        return HANDED.get() >= CPUS && !EngineLoop.isAnyEngineThread();
    }

    /** Set on an engine thread that holds a batch back. */
    private static final Runnable START_HELD = HandlerChains::startHeldOne;

    /** On an engine thread with nothing left to do: starts the batch it held back, if it still holds one. */
    private static void startHeldOne() {
        Batch open = OPEN_BATCH.get();
        if (open != null && open.held) {
            startHeld(open);
        }
    }

    /** Starts the batch this engine thread held back. */
    private static void startHeld(Batch held) {
        held.held = false;
        startOpen(held);
    }

    /**
     * Starts {@code batch}, which then stays this thread's open one (taking
     * calls until a pool thread begins it) only once the pool has it and no
     * call made while it ran in place (the pool refused it) opened another: a
     * batch never started takes no more.
     */
    private static void startOpen(Batch batch) {
        OPEN_BATCH.remove();
        if (start(batch) && OPEN_BATCH.get() == null) {
            OPEN_BATCH.set(batch);
        }
    }

    /**
     * Defers {@code call} behind the handlers of a chain running on another
     * pool thread, one that still takes handlers and whose thread is runnable
     * (not waiting), the chains taken in turn.
     *
     * @return false if no chain took it
     */
    private static boolean foldIntoRunningChain(HandlerCall call) {
        HandlerChains self = PER_THREAD.get();
        for (HandlerChains chains : ON_POOL) {
            if (chains == self || chains.owner.getState() != Thread.State.RUNNABLE) {
                continue;
            }
            synchronized (chains) {
                if (chains.accepting) {
                    chains.deferred.addLast(call);
                    chains.watchLocked();
                    if (ON_POOL.remove(chains)) { // the next call goes to the next chain
                        ON_POOL.add(chains);
                    }
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Hands {@code batch} to the pool, counted in {@link #HANDED} until its
     * run ends.
     *
     * @throws RejectedExecutionException if the pool refuses it; and whatever the pool's thread factory throws
     */
    private static void handToPool(Batch batch) {
        batch.counted = true;
        HANDED.getAndIncrement();
        try {
            pool().execute(batch);
        } catch (RuntimeException | Error e) {
            batch.counted = false;
            HANDED.getAndDecrement();
            throw e;
        }
    }

    /**
     * Gives {@code batch} to the pool; if the pool refuses it, runs it here,
     * as a refused handler always ran. So too if the pool cannot make a
     * thread for it (its thread factory throws, or the JVM has no memory for
     * a thread), after reporting that: the batch's calls were accepted, and
     * must run once.
     */
    private static boolean start(Batch batch) {
        try {
            handToPool(batch);
            return true;
        } catch (RejectedExecutionException e) {
            batch.runInPlace();
            return false;
        } catch (RuntimeException | Error e) { // nothing ran: the executor made no thread for it
            UncaughtExceptions.report(e);
            batch.runInPlace();
            return false;
        }
    }

    /** Per handing thread: the last batch it handed to the pool, which takes more calls until it starts. */
    private static final ThreadLocal<Batch> OPEN_BATCH = new ThreadLocal<>();

    /**
     * Handler calls handed to the pool back to back by one thread (an engine
     * thread delivering the completions of one reap), run by one pool thread
     * in order: a wake-up of a pool thread (tens of microseconds here) for up
     * to {@value #MAX_BATCH} of them instead of one each (more while the pool
     * is {@linkplain #crowded crowded}). Calls join it only
     * until a pool thread starts it; the ones behind the first wait as
     * deferred handlers do, where the watcher takes them to other threads if
     * one handler runs long.
     */
    private static final class Batch implements Runnable {
        /** The first call. */
        private HandlerCall first;
        /** The calls after the first, made when a second joins: a lone call (one completion per reap) needs none. */
        private HandlerCall[] rest;
        /** Guarded by this. */
        private int count;
        /** Guarded by this. */
        private boolean started;
        /** Held back by the engine thread that made it until its loop has nothing else to do. That thread only. */
        private boolean held;
        /** Counted in {@link #HANDED} until its run ends. */
        private volatile boolean counted;

        Batch(HandlerCall first) {
            this.first = first;
            count = 1;
        }

        /** A chain moved whole to another thread, in its order; handed straight to the pool, it is never open. */
        private Batch(List<HandlerCall> chain) {
            first = chain.getFirst();
            rest = chain.subList(1, chain.size()).toArray(new HandlerCall[0]);
            count = chain.size();
        }

        /** Whether it holds {@value #MAX_BATCH} calls or more. */
        synchronized boolean isFull() {
            return count >= MAX_BATCH;
        }

        /**
         * Adds {@code call} while no pool thread has started it: up to
         * {@value #MAX_BATCH} calls, and past that while the pool is
         * {@linkplain #crowded crowded}.
         */
        synchronized boolean add(HandlerCall call) {
            if (started || (count >= MAX_BATCH && !crowded())) {
                return false;
            }
            if (rest == null) {
                rest = new HandlerCall[MAX_BATCH - 1];
            } else if (count - 1 == rest.length) {
                rest = Arrays.copyOf(rest, 2 * rest.length);
            }
            rest[count++ - 1] = call;
            return true;
        }

        @Override
        public void run() {
            run(true);
        }

        /**
         * Runs it on the calling thread, because the pool refused it or could
         * make no thread for it. That
         * thread may be an engine thread, the watcher, or a pool thread in
         * the middle of its own run, where no watcher would send held
         * wake-ups in time: its handlers' engine wake-ups go at once.
         */
        void runInPlace() {
            run(false);
        }

        private void run(boolean onPool) {
            int n;
            synchronized (this) {
                started = true;
                n = count;
            }
            // The handing thread keeps this batch as its open one until it starts another: it must not keep the
            // calls (and through them their channels) reachable after they ran.
            HandlerCall first = this.first;
            this.first = null;
            HandlerChains self = PER_THREAD.get();
            if (self == null) {
                self = new HandlerChains();
                PER_THREAD.set(self);
            }
            // A new handler starts now, not when the first below does: the watcher must not take the ones
            // deferred behind it for a handler that has run a whole period.
            self.nextGeneration();
            for (int i = 1; i < n; i++) {
                self.addDeferred(rest[i - 1]);
                rest[i - 1] = null;
            }
            try {
                self.run(first, onPool);
            } finally {
                if (counted) {
                    HANDED.getAndDecrement();
                }
            }
        }
    }

    /**
     * Defers {@code call} until the handler this thread is running returns,
     * if this thread is running one of the default pool's handlers.
     *
     * @return false when this thread is not: the caller hands it to the pool
     */
    static boolean deferOnThisThread(HandlerCall call) {
        HandlerChains self = PER_THREAD.get();
        if (self == null || !self.running) {
            return false;
        }
        self.addDeferred(call);
        return true;
    }

    /**
     * Puts back, in front and in order, handlers that were taken to go to
     * the pool but did not go, where the watcher takes them again.
     *
     * @return false if there is no watcher to take them (its thread could not start)
     */
    private synchronized boolean putBack(List<HandlerCall> taken) {
        for (int i = taken.size() - 1; i >= 0; i--) {
            deferred.addFirst(taken.get(i));
        }
        return watchLocked();
    }

    /**
     * Puts this thread in the watcher's list unless it is there; the caller
     * holds this thread's lock. Only once it is in does {@link #watched}
     * turn true: a thread the watcher could not take asks again next time.
     * It never throws: its callers have already queued a handler call, which
     * must run once, and the call that queued it may be a caller's
     * {@code read}, which must not both throw and have its handler called.
     *
     * @return whether the watcher has this thread in its list: false if the
     *         watcher's thread could not start (reported). Calls deferred
     *         behind a running handler still run when it returns; only a
     *         handler that waits for them is not rescued, and without threads
     *         it could not be.
     */
    private boolean watchLocked() {
        if (!watched) {
            watched = Watcher.watch(this);
        }
        return watched;
    }

    /** Queues {@code call} behind the running handler, where the watcher can see it. */
    private synchronized void addDeferred(HandlerCall call) {
        deferred.addLast(call);
        watchLocked();
    }

    private void run(HandlerCall first, boolean holdWakeups) {
        running = true;
        if (holdWakeups) {
            synchronized (this) {
                accepting = true;
                ON_POOL.add(this);
            }
        }
        try {
            HandlerCall next = first;
            for (int chained = 1; next != null; chained++) {
                nextGeneration();
                if (holdWakeups) {
                    signals.hold();
                }
                try {
                    next.callHandler();
                } finally {
                    signals.release(); // one wake-up of the engine for every request the handler started
                }
                next = nextDeferred();
                if (next != null && holdWakeups && chained % SHARE_EVERY == 0 && HANDED.get() < CPUS) {
                    shareWithIdleCpu();
                }
                if (next != null && chained >= MAX_CHAINED && !holdWakeups) {
                    List<HandlerCall> chain = new ArrayList<>();
                    chain.add(next);
                    if (handOn(takeDeferred(chain))) {
                        next = null;
                    } else { // the pool could not take it: it goes on here, nothing lost
                        next = nextDeferred();
                        chained = 0;
                    }
                }
            }
        } finally {
            running = false;
            // What was deferred (or folded in) after the last handler, or left if a call threw: to another thread.
            // Taken under the lock that closes the chain to folding: a call folded in after it would wait for ever.
            List<HandlerCall> rest = null;
            synchronized (this) {
                if (holdWakeups) {
                    accepting = false;
                    ON_POOL.remove(this);
                }
                if (!deferred.isEmpty()) {
                    rest = takeDeferred(new ArrayList<>());
                }
            }
            if (rest != null) {
                handOnOrRunHere(rest);
            }
        }
    }

    /**
     * Hands the back half of the handlers deferred here, in their order, to
     * the pool as a chain of its own: fewer chains run, or are about to, than
     * there are CPUs ({@link #HANDED}), so a CPU may have nothing to do while
     * they wait here. If the pool
     * cannot take them, they stay.
     */
    private void shareWithIdleCpu() {
        List<HandlerCall> half;
        synchronized (this) {
            int n = (deferred.size() + 1) / 2; // one of one: two handlers that keep reading use two CPUs
            if (n == 0) {
                return;
            }
            HandlerCall[] back = new HandlerCall[n];
            for (int i = n - 1; i >= 0; i--) {
                back[i] = deferred.pollLast();
            }
            half = List.of(back);
        }
        try {
            handToPool(new Batch(half));
        } catch (RuntimeException | Error e) { // refused, or its thread factory threw: nothing ran
            synchronized (this) { // back at the end, where the half was taken from (behind what was deferred since)
                deferred.addAll(half);
                watchLocked();
            }
            if (!(e instanceof RejectedExecutionException)) {
                UncaughtExceptions.report(e);
            }
        }
    }

    /**
     * Gives the rest of this thread's chain, {@code chain}, to the pool whole,
     * to one thread; if the pool refuses it or cannot make a thread for it,
     * puts it back in front of what was deferred since.
     *
     * @return whether the pool took it
     */
    private boolean handOn(List<HandlerCall> chain) {
        try {
            handToPool(new Batch(chain));
            return true;
        } catch (RuntimeException | Error e) { // refused, or its thread factory threw: nothing ran
            putBack(chain);
            if (!(e instanceof RejectedExecutionException)) {
                UncaughtExceptions.report(e);
            }
            return false;
        }
    }

    /**
     * Gives what was left deferred when this thread's run ended (folded in
     * after its last handler, or left by one that threw), {@code rest}, to the
     * pool whole; runs it here if the pool refuses it, as
     * a refused handler always ran; puts it back for the watcher if the
     * pool's thread factory throws, and runs it here if there is no watcher.
     */
    private void handOnOrRunHere(List<HandlerCall> rest) {
        Batch refused = null;
        try {
            Batch batch = new Batch(rest);
            try {
                handToPool(batch);
            } catch (RejectedExecutionException e) {
                refused = batch;
            }
        } catch (RuntimeException | Error e) { // nothing ran: the watcher takes it once this thread waits
            UncaughtExceptions.report(e);
            if (!putBack(rest)) { // and if there is no watcher (no thread for it either), nothing would: here
                refused = new Batch(takeDeferred(new ArrayList<>()));
            }
        }
        if (refused != null) {
            refused.runInPlace();
        }
    }

    private synchronized HandlerCall nextDeferred() {
        return deferred.pollFirst();
    }

    /** Adds every deferred handler, in order, to {@code chain}, and returns it. */
    private synchronized List<HandlerCall> takeDeferred(List<HandlerCall> chain) {
        chain.addAll(deferred);
        deferred.clear();
        return chain;
    }

    /** The default pool: its {@code execute} neither runs the task in place nor waits. */
    private static Executor pool() {
        return DefaultHandlerExecutor.get();
    }

    /**
     * The one thread that takes deferred handlers away from a handler that
     * runs long, and sends the engine wake-ups it holds, made on first use.
     * It waits without a timeout while no thread has deferred handlers or
     * held wake-ups, so an idle process pays nothing.
     *
     * <p>A thread joins the list without a lock: the list is lock-free, and
     * the watcher, before it waits for a first thread, says so in a volatile
     * flag and then looks at the list once more, while a joining thread adds
     * itself and then reads the flag, so one of the two sees the other. A
     * shared lock here made the pool's threads wait for each other: a thread
     * preempted while it held it kept every other joining thread out until
     * it ran again, up to 44 ms at qd 256 on this project's 2-vCPU machine
     * (a JFR recording of {@code jdk.JavaMonitorEnter} inside
     * {@code AioAsynchronousFileChannel.read}).
     */
    private static final class Watcher {
        /** Threads with deferred handlers or held wake-ups: each adds itself, the watcher takes it out. */
        private static final ConcurrentLinkedQueue<HandlerChains> WATCHED = new ConcurrentLinkedQueue<>();
        /** Held only to start the watcher's thread. */
        private static final Object START_LOCK = new Object();
        /** How long after a start that failed the next is tried. */
        private static final long START_RETRY_MILLIS = 100;
        /** Whether a start failed, and when: guarded by {@link #START_LOCK}. */
        private static boolean startFailed;
        private static long startFailedNanos;
        /** The watcher's thread, once it runs; null before. */
        private static volatile Thread thread;
        /** Whether the watcher waits (or is about to) for a thread to join the list. */
        private static volatile boolean idle;

        private Watcher() {
        }

        /**
         * Adds {@code chains}, whose lock the caller holds, to the list,
         * starting the watcher's thread on first use.
         *
         * @return false if that thread could not start (reported): {@code chains} is not in the list
         */
        static boolean watch(HandlerChains chains) {
            Thread watcher = thread;
            if (watcher == null && (watcher = start()) == null) {
                return false;
            }
            try {
                WATCHED.add(chains);
            } catch (Throwable t) { // no memory for the list's node: not watched, asked again next time
                UncaughtExceptions.report(t);
                return false;
            }
            if (idle) { // read after the add: a watcher about to wait sees the add, or is unparked here
                LockSupport.unpark(watcher);
            }
            return true;
        }

        /**
         * Starts the watcher's thread unless it runs.
         *
         * @return the thread, or null if it could not start (no memory or no thread left to the process: the
         *         failure is reported), and a watch at least {@value #START_RETRY_MILLIS} ms later tries again
         */
        private static Thread start() {
            synchronized (START_LOCK) {
                Thread watcher = thread;
                if (watcher == null) {
                    if (startFailed && System.nanoTime() - startFailedNanos
                            < TimeUnit.MILLISECONDS.toNanos(START_RETRY_MILLIS)) {
                        return null; // not a failed thread start and a report for every handler deferred meanwhile
                    }
                    try {
                        // No inherited thread-locals, no context class loader: it lives as long as the process.
                        watcher = Thread.ofPlatform().name("panaio-handler-watch").daemon()
                                .inheritInheritableThreadLocals(false).unstarted(Watcher::loop);
                        watcher.setContextClassLoader(null);
                        watcher.start();
                    } catch (Throwable t) {
                        startFailed = true;
                        startFailedNanos = System.nanoTime();
                        UncaughtExceptions.report(t);
                        return null;
                    }
                    thread = watcher;
                }
                return watcher;
            }
        }

        private static void loop() {
            for (;;) {
                try {
                    lookAround();
                } catch (Throwable t) { // whatever goes wrong in one round, the watcher watches on
                    UncaughtExceptions.report(t);
                }
            }
        }

        /** Waits for a thread to watch if there is none, then for a period, then looks at each once. */
        private static void lookAround() {
            // Nothing interrupts this thread on purpose, but a handler it runs in place may leave the flag set,
            // which would end every park at once.
            Thread.interrupted();
            if (WATCHED.isEmpty()) {
                idle = true; // before the last look: a thread that joins after it reads true and unparks
                while (WATCHED.isEmpty()) {
                    LockSupport.park();
                    Thread.interrupted();
                }
                idle = false;
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(PERIOD_MICROS));
            for (HandlerChains chains : WATCHED) {
                Taken taken;
                try {
                    taken = look(chains);
                } catch (Throwable t) { // out of memory, say: this thread is looked at again next period
                    UncaughtExceptions.report(t);
                    continue;
                }
                if (taken != null) {
                    move(chains, taken);
                }
            }
        }

        /** What the watcher took from behind a handler, and what it found that handler doing. */
        private record Taken(List<HandlerCall> calls, Verdict verdict) {
        }

        /**
         * Hands what was taken from {@code chains} to the pool. Behind a
         * handler that waits in Java, a thread each, as the JDK's cached pool
         * gives them: a thread that waits uses no CPU, and any of them may
         * wait too. Behind one asleep in the kernel, entering a monitor or
         * computing, as many chains as there are CPUs without one, and at
         * least two: a thread each for what only looked asleep (the JVM's
         * own waits, where the kernel cannot tell them) brought the pool's
         * growth back, and one chain made handlers that all wait start one a
         * look apart, where halves take a look per halving. What the pool
         * does not take goes back, to be taken again at the next look.
         */
        private static void move(HandlerChains chains, Taken taken) {
            List<HandlerCall> calls = taken.calls();
            int parts = taken.verdict() == Verdict.WAITS ? calls.size()
                    : Math.clamp(Math.max(2, CPUS - HANDED.get()), 1, calls.size());
            int from = 0;
            try {
                for (int part = 0; part < parts; part++) {
                    int to = from + (calls.size() - from) / (parts - part);
                    Batch batch = new Batch(calls.subList(from, to));
                    try {
                        handToPool(batch);
                    } catch (RejectedExecutionException e) {
                        from = to; // run here, now, as a refused handler always ran: never put back
                        batch.runInPlace();
                        continue;
                    }
                    from = to;
                }
            } catch (RuntimeException | Error e) { // its thread factory threw, or no memory: from here on, none went
                chains.putBack(calls.subList(from, calls.size()));
                UncaughtExceptions.report(e);
            }
        }

        /**
         * One look at a thread: nothing deferred and no wake-up held, and it
         * leaves the list; the same handler running as at the last look, and
         * its wake-ups are sent, and what waits behind it is taken away if
         * that handler waits or computes for long ({@link #verdict}, asked
         * without the thread's lock, which its owner takes for every handler
         * it defers, while the verdict may read {@code /proc}).
         *
         * @return what was taken, or null
         */
        private static Taken look(HandlerChains chains) {
            // Read before taking the lock, which the thread may be waiting for (to defer a handler) while it is held.
            Thread.State state = chains.owner.getState();
            boolean behind;
            synchronized (chains) {
                boolean holding = chains.signals.hasHeldWakeups();
                if (chains.deferred.isEmpty() && !holding) {
                    chains.watched = false;
                    chains.waitingLooks = 0;
                    WATCHED.remove(chains);
                    return null;
                }
                int now = chains.generation;
                if (now != chains.seenGeneration) {
                    chains.seenGeneration = now;
                    chains.foundRunning = false;
                    chains.waitingLooks = 0;
                    return null;
                }
                behind = !chains.deferred.isEmpty();
            }
            Taken taken = null;
            if (behind) {
                Verdict verdict = verdict(chains, state);
                if (verdict != Verdict.LEAVE) {
                    Taken made = new Taken(new ArrayList<>(), verdict); // made before anything is taken
                    synchronized (chains) {
                        if (chains.generation == chains.seenGeneration) { // still the same handler
                            chains.takeDeferred(made.calls());
                            taken = made.calls().isEmpty() ? null : made;
                            chains.waitingLooks = 0; // a wait seen again must be seen at two looks again
                        }
                    }
                }
            }
            // The same handler has run a whole period: what it started must not wait for it to return.
            try {
                chains.signals.release();
            } catch (Throwable t) { // the calls taken above are handed on all the same
                UncaughtExceptions.report(t);
            }
            return taken;
        }

        /** What a look finds of a handler that has been running since the look before. */
        private enum Verdict {
            /** It waits in Java: for a condition, a sleep, a parked lock. */
            WAITS,
            /** The kernel has it asleep while Java calls it runnable, or it waits to enter a monitor. */
            ASLEEP,
            /** It computes (or spins), or has been runnable for {@value #RUNNABLE_LIMIT_MILLIS} ms. */
            COMPUTES,
            /** It runs, or waits for a CPU: what waits behind it stays. */
            LEAVE
        }

        /**
         * Whether the handler that {@code chains}' thread has been running
         * since the watcher's last look holds up those behind it. Watcher
         * only; the thread's {@code state} was read just before.
         * <ul>
         *   <li>It waits if its thread was waiting (or entering a monitor:
         *       asleep) at two looks in a row: one look may catch a brief wait,
         *       or a monitor the watcher itself held a moment before (a thread
         *       woken to take it stays BLOCKED until it gets a CPU).</li>
         *   <li>A runnable thread is asked at the watcher's looks 1, 2, 4, 8...
         *       of the same handler, since asking costs system calls and many
         *       threads wait long for a CPU when more chains run than there are
         *       CPUs. It computes once it has used
         *       {@value #RUNNING_CPU_MILLIS} ms of CPU since the watcher first
         *       found it running; it is asleep if its CPU time stood still since
         *       the last asking and the kernel has it asleep outside
         *       {@code futex}, or in {@code futex} (a native library's lock, or
         *       the JVM's own) for {@value #FUTEX_LIMIT_MILLIS} ms.</li>
         *   <li>After {@value #RUNNABLE_LIMIT_MILLIS} ms it is counted as
         *       computing, whatever the JVM or the kernel could tell.</li>
         * </ul>
         */
        private static Verdict verdict(HandlerChains chains, Thread.State state) {
            if (state != Thread.State.RUNNABLE) {
                if (++chains.waitingLooks < 2) {
                    return Verdict.LEAVE;
                }
                return state == Thread.State.BLOCKED ? Verdict.ASLEEP : Verdict.WAITS;
            }
            chains.waitingLooks = 0;
            long now = System.nanoTime();
            if (!chains.foundRunning) {
                chains.foundRunning = true;
                chains.runningLooks = 0;
                chains.runningSinceNanos = now;
                chains.futexSinceNanos = -1;
                chains.runningSinceCpu = ThreadStates.cpuNanos(chains.owner);
                chains.lastCpu = chains.runningSinceCpu;
                return Verdict.LEAVE;
            }
            if (now - chains.runningSinceNanos >= TimeUnit.MILLISECONDS.toNanos(RUNNABLE_LIMIT_MILLIS)) {
                return Verdict.COMPUTES;
            }
            if (Integer.bitCount(++chains.runningLooks) != 1) {
                return Verdict.LEAVE;
            }
            long cpu = ThreadStates.cpuNanos(chains.owner);
            boolean still = cpu < 0 || cpu == chains.lastCpu;
            chains.lastCpu = cpu;
            if (cpu >= 0 && cpu - chains.runningSinceCpu >= TimeUnit.MILLISECONDS.toNanos(RUNNING_CPU_MILLIS)) {
                return Verdict.COMPUTES;
            }
            if (!still) {
                chains.futexSinceNanos = -1;
                return Verdict.LEAVE;
            }
            return switch (ThreadStates.sleepOf(chains.tid)) {
                case ELSEWHERE -> Verdict.ASLEEP;
                case FUTEX -> {
                    if (chains.futexSinceNanos < 0) {
                        chains.futexSinceNanos = now;
                    }
                    yield now - chains.futexSinceNanos >= TimeUnit.MILLISECONDS.toNanos(FUTEX_LIMIT_MILLIS)
                            ? Verdict.ASLEEP : Verdict.LEAVE;
                }
                case NO -> {
                    chains.futexSinceNanos = -1;
                    yield Verdict.LEAVE;
                }
            };
        }
    }
}
