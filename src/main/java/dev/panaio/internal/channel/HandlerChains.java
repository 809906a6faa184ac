package dev.panaio.internal.channel;

import dev.panaio.internal.engine.EngineLoop;
import dev.panaio.internal.engine.HeldSignals;
import dev.panaio.internal.engine.UncaughtExceptions;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
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
 * thread that had just become free. Two limits keep what the JDK's pool
 * gives:
 * <ul>
 *   <li>A handler that, after starting such a read, waits for that read's
 *       handler (which the JDK's cached pool runs on another thread) is not
 *       left waiting: a watcher thread looks every {@value #PERIOD_MICROS}
 *       µs while handlers are deferred (or wake-ups held, below), and hands to the pool whatever
 *       waits behind a handler that has been running since its last look.</li>
 *   <li>After {@value #MAX_CHAINED} handlers in a row, the rest of the chain
 *       goes to the pool, so that one chain does not keep its thread for
 *       ever.</li>
 * </ul>
 *
 * <p>Handlers handed to the pool back to back by one thread (an engine
 * thread delivering what one reap found) share a pool task, up to
 * {@value #MAX_BATCH}, until a pool thread starts it: one wake-up for them
 * instead of one each. The ones behind the first wait as deferred handlers
 * do, so the watcher moves them if one runs long. An engine thread holds its
 * task back until its loop has nothing else to do
 * ({@link EngineLoop#runWhenIdle}), so that the task carries everything its
 * busy stretch completed: it goes as soon as it is full, and a busy loop
 * holds it for at most 100 µs.
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
 * handlers and its held wake-ups are shared only with the watcher.
 */
final class HandlerChains {
    /** Handlers one pool thread runs in a row before it hands the rest of a chain to other threads. */
    static final int MAX_CHAINED = 1024;
    /** The most handler calls one hand-off to the pool carries ({@link Batch}). */
    static final int MAX_BATCH = 16;
    /** How often the watcher looks at threads with deferred handlers or held wake-ups, in microseconds. */
    static final long PERIOD_MICROS = 1_000;

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
    /** Handlers waiting for the running one to return, in order. Guarded by this. */
    private final ArrayDeque<HandlerCall> deferred = new ArrayDeque<>();
    /** Whether the watcher has this thread in its list. Guarded by this. */
    private boolean watched;

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

    /** A first engine wake-up is held: the watcher looks at this thread until it is sent. */
    private synchronized void watchHeld() {
        if (!watched) {
            Watcher.watch(this);
            watched = true; // only once watched: a thread the watcher could not take asks again next time
        }
    }

    /**
     * Hands {@code call} to the default pool: it runs on a pool thread, which
     * may then run a chain behind it, together with the calls this thread
     * hands off next, until that pool thread starts ({@link Batch}).
     */
    static void execute(HandlerCall call) {
        Batch open = OPEN_BATCH.get();
        if (open != null && open.add(call)) {
            if (open.held && open.isFull()) {
                startHeld(open); // full: it goes now
            }
            return; // the pool thread that will run that batch is not running yet: this one rides along
        }
        Batch batch = new Batch(call);
        if (EngineLoop.runWhenIdle(START_HELD)) {
            batch.held = true;
            OPEN_BATCH.set(batch);
            return;
        }
        startOpen(batch);
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
     * Hands {@code call} to the pool in a task of its own, never joining an
     * open batch: a handler the watcher takes away gets a thread to itself,
     * as the JDK's cached pool gives each.
     */
    private static void executeAlone(HandlerCall call) {
        start(new Batch(call));
    }

    /** Gives {@code batch} to the pool; if the pool refuses it, runs it here, as a refused handler always ran. */
    private static boolean start(Batch batch) {
        try {
            pool().execute(batch);
            return true;
        } catch (RejectedExecutionException e) {
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
     * to {@value #MAX_BATCH} of them instead of one each. Calls join it only
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

        Batch(HandlerCall first) {
            this.first = first;
            count = 1;
        }

        /** Whether it holds as many calls as it can take. */
        synchronized boolean isFull() {
            return count == MAX_BATCH;
        }

        synchronized boolean add(HandlerCall call) {
            if (started || count == MAX_BATCH) {
                return false;
            }
            if (rest == null) {
                rest = new HandlerCall[MAX_BATCH - 1];
            }
            rest[count++ - 1] = call;
            return true;
        }

        @Override
        public void run() {
            run(true);
        }

        /**
         * Runs it on the calling thread, because the pool refused it. That
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
            self.run(first, onPool);
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

    /** Queues {@code call} behind the running handler, where the watcher can see it. */
    private synchronized void addDeferred(HandlerCall call) {
        deferred.addLast(call);
        if (!watched) {
            Watcher.watch(this);
            watched = true; // only once watched: a thread the watcher could not take asks again next time
        }
    }

    private void run(HandlerCall first, boolean holdWakeups) {
        running = true;
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
                if (next != null && chained >= MAX_CHAINED) {
                    execute(next);
                    next = null;
                }
            }
        } finally {
            running = false;
            // After the budget (or if a call threw past its own reporting): the rest goes to other threads.
            HandlerCall rest;
            while ((rest = nextDeferred()) != null) {
                execute(rest);
            }
        }
    }

    private synchronized HandlerCall nextDeferred() {
        return deferred.pollFirst();
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
        /** The watcher's thread, once it runs; null before. */
        private static volatile Thread thread;
        /** Whether the watcher waits (or is about to) for a thread to join the list. */
        private static volatile boolean idle;

        private Watcher() {
        }

        /** Adds {@code chains}, whose lock the caller holds, to the list. */
        static void watch(HandlerChains chains) {
            WATCHED.add(chains);
            Thread watcher = thread;
            if (watcher == null) {
                try {
                    watcher = start();
                } catch (Throwable t) { // no thread to watch it: out of the list, and asked again next time
                    WATCHED.remove(chains);
                    throw t;
                }
            }
            if (idle) { // read after the add: a watcher about to wait sees the add, or is unparked here
                LockSupport.unpark(watcher);
            }
        }

        /** Starts the watcher's thread unless it runs; a start that failed is tried again by the next watch. */
        private static Thread start() {
            synchronized (START_LOCK) {
                Thread watcher = thread;
                if (watcher == null) {
                    // No inherited thread-locals, no context class loader: it lives as long as the process.
                    watcher = Thread.ofPlatform().name("panaio-handler-watch").daemon()
                            .inheritInheritableThreadLocals(false).unstarted(Watcher::loop);
                    watcher.setContextClassLoader(null);
                    watcher.start();
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
                List<HandlerCall> taken;
                try {
                    taken = look(chains);
                } catch (Throwable t) { // out of memory, say: this thread is looked at again next period
                    UncaughtExceptions.report(t);
                    continue;
                }
                for (HandlerCall stuck : taken) {
                    try {
                        executeAlone(stuck); // a thread each, as the JDK's cached pool gives them
                    } catch (Throwable t) {
                        chains.addDeferred(stuck); // not lost: taken again at the next look
                        UncaughtExceptions.report(t);
                    }
                }
            }
        }

        /**
         * One look at a thread: nothing deferred and no wake-up held, and it
         * leaves the list; the same handler running as at the last look, and
         * what waits behind it is taken away and its wake-ups are sent.
         */
        private static List<HandlerCall> look(HandlerChains chains) {
            List<HandlerCall> stuck;
            synchronized (chains) {
                boolean holding = chains.signals.hasHeldWakeups();
                if (chains.deferred.isEmpty() && !holding) {
                    chains.watched = false;
                    WATCHED.remove(chains);
                    return List.of();
                }
                int now = chains.generation;
                if (now != chains.seenGeneration) {
                    chains.seenGeneration = now;
                    return List.of();
                }
                stuck = new ArrayList<>(chains.deferred);
                chains.deferred.clear();
            }
            // The same handler has run a whole period: what it started must not wait for it to return.
            try {
                chains.signals.release();
            } catch (Throwable t) { // the calls taken above are handed on all the same
                UncaughtExceptions.report(t);
            }
            return stuck;
        }
    }
}
