package dev.panaio.internal.engine;

import dev.panaio.AioEngineStats;
import dev.panaio.AioFile;
import dev.panaio.MisalignedIoException;
import dev.panaio.Pollable;
import dev.panaio.RequestOptions;
import dev.panaio.internal.context.RequestChecks;
import dev.panaio.internal.memory.AlignedBufferPool;
import dev.panaio.internal.memory.CallerMemory;
import dev.panaio.internal.memory.CallerVector;
import dev.panaio.internal.stats.SharedCounters;
import dev.panaio.internal.stats.SubmitCounters;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.function.BiConsumer;

/**
 * What an {@link dev.panaio.AioEngine} does behind its API: checks a request,
 * hands its memory over (in place, or through a bounce buffer), routes it
 * through the no-wait fallback where that applies, queues it on an engine
 * loop, and owns the loops, the pools and the counters until the engine
 * closes.
 *
 * <p>Thread-safety: every method from any thread.
 */
public final class EngineCore {
    private final EngineLoops loops;
    private final AlignedBufferPool bouncePool;
    private final BlockingPool blockingPool;
    private final SharedCounters sharedCounters = new SharedCounters();
    /** The no-wait fallback's hooks, made once rather than as three new lambdas per direct write. */
    private final Executor nowaitPool = task -> blockingPool().execute(task);
    private final Runnable nowaitPoolRun = sharedCounters.poolRuns::increment;
    private final BiConsumer<Request, CompletionSink> resubmit = this::submit;
    private volatile boolean closed;

    /** Starts the engine's loops and makes its pools. */
    public EngineCore(int threads, int capacity, int maxPending, int engineId, int blockingThreads,
                      long maxRetainedBufferBytes) throws IOException {
        this.loops = new EngineLoops(threads, capacity, maxPending, engineId);
        try {
            this.blockingPool = new BlockingPool(blockingThreads);
            this.bouncePool = new AlignedBufferPool(4096, maxRetainedBufferBytes);
        } catch (RuntimeException | Error e) { // out of memory, say: the loops' threads and contexts do not outlive it
            loops.shutdown();
            throw e;
        }
    }

    /**
     * AioEngine's read or write of one segment, its options already checked:
     * checked at once, misalignment failing the future.
     */
    public CompletableFuture<Integer> transfer(boolean read, AioFile file, MemorySegment memory, long position,
                                               RequestOptions options) {
        RequestChecks.checkSegment(memory, read);
        RequestChecks.checkNotConfined(memory);
        try {
            RequestChecks.checkTransfer(read, file, memory.address(), memory.byteSize(), position, options);
        } catch (MisalignedIoException e) {
            return CompletableFuture.failedFuture(e);
        }
        return submitTransfer(read, file, memory, position, options);
    }

    /*
     * The total fits an int: checkTransfer refuses more than the kernel moves in one call (MAX_RW_COUNT).
     */

    /**
     * AioEngine's vectored read or write, its options already checked:
     * checked at once, misalignment failing the future.
     */
    public CompletableFuture<Integer> vectored(boolean read, AioFile file, MemorySegment[] buffers, long position,
                                               RequestOptions options) {
        RequestChecks.checkOpen(Objects.requireNonNull(file, "file")); // before the alignment, which a closed file lacks
        long total;
        try {
            total = RequestChecks.checkVectored(file, buffers, read);
            for (MemorySegment buffer : buffers) {
                RequestChecks.checkNotConfined(buffer);
            }
            RequestChecks.checkTransfer(read, file, 0, total, position, options);
        } catch (MisalignedIoException e) {
            return CompletableFuture.failedFuture(e);
        }
        CallerVector handedOver;
        try {
            handedOver = CallerVector.handOver(buffers, total, read, bouncePool);
        } catch (IllegalStateException closed) {
            if (bouncePool.isClosed()) {
                return CompletableFuture.failedFuture(new AsynchronousCloseException());
            }
            throw closed;
        }
        if (handedOver.bounced()) {
            sharedCounters.bounceCopiedBytes.add(total);
        }
        Request request = read ? Request.readVectored(file, handedOver.kernel(), position, "aio", options)
                : Request.writeVectored(file, handedOver.kernel(), position, "aio", options);
        FutureSink sink = new FutureSink(request);
        submit(request, new MemorySink(handedOver, sink));
        return sink.future();
    }

    /** The memory is handed over now (a use taken, or copied) and settled before the future completes. */
    private CompletableFuture<Integer> submitTransfer(boolean read, AioFile file, MemorySegment memory,
                                                      long position, RequestOptions options) {
        CallerMemory handedOver;
        try {
            handedOver = CallerMemory.handOver(memory, read, bouncePool);
        } catch (IllegalStateException closed) {
            if (bouncePool.isClosed()) {
                return CompletableFuture.failedFuture(new AsynchronousCloseException());
            }
            throw closed;
        }
        MemorySegment kernel = handedOver.kernel();
        if (kernel != memory) {
            sharedCounters.bounceCopiedBytes.add(memory.byteSize());
        }
        Request request = read ? Request.read(file, kernel, position, "aio", options)
                : Request.write(file, kernel, position, "aio", options);
        FutureSink sink = new FutureSink(request);
        submit(request, new MemorySink(handedOver, sink));
        return sink.future();
    }

    /** AioEngine's fsync ({@code FSYNC}) or fdatasync ({@code FDSYNC}). */
    public CompletableFuture<Integer> sync(Request.Kind kind, AioFile file) {
        RequestChecks.checkOpen(file);
        return submitForFuture(Request.sync(kind, file));
    }

    /** AioEngine's poll. */
    public CompletableFuture<Integer> poll(Pollable target, int events) {
        RequestChecks.checkPoll(target, events);
        return submitForFuture(Request.poll(target, events));
    }

    /** The request keeps its memory reachable until the future completes. */
    private CompletableFuture<Integer> submitForFuture(Request request) {
        FutureSink sink = new FutureSink(request);
        submit(request, sink);
        return sink.future();
    }

    /** Hands a request to an engine thread; its sink will be finished or failed exactly once. */
    public void submit(Request request, CompletionSink sink) {
        if (closed) {
            sink.fail(new AsynchronousCloseException());
            return;
        }
        if (NowaitFallback.appliesTo(request)) {
            NowaitFallback.Submission nowait = NowaitFallback.wrap(request, sink, nowaitPool, nowaitPoolRun,
                    resubmit);
            loops.loopFor().enqueue(nowait.request(), nowait.sink());
            return;
        }
        loops.loopFor().enqueue(request, sink);
    }

    /** Bounce buffers for misaligned or heap buffers on direct files. */
    public AlignedBufferPool bouncePool() {
        return bouncePool;
    }

    /** Platform threads for buffered reads that would block: the page cache did not have the data. */
    public ExecutorService blockingPool() {
        return blockingPool.executor();
    }

    /** The counters that any thread bumps (page-cache hits, pool runs, bounce copies...). */
    public SharedCounters sharedCounters() {
        return sharedCounters;
    }

    /** The engine's loops. */
    public EngineLoops loops() {
        return loops;
    }

    /** Whether the calling thread is one of this engine's threads. */
    public boolean isEngineThread() {
        return loops.isEngineThread();
    }

    /** Whether {@link #close} has begun. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Stops accepting requests, fails queued ones, waits for those in the
     * kernel and for the blocking pool's, then frees the bounce buffers.
     */
    public void close() {
        closed = true;
        blockingPool.refuseNew(); // no pool is created after this
        loops.shutdown(); // waits for the engine threads, unless called from one
        blockingPool.shutdown(); // waits for the pool's reads and writes: none needs an engine thread to finish
        bouncePool.close();
    }

    /** A snapshot of the engine's counts, read without stopping it. */
    public AioEngineStats stats() {
        long submitted = 0;
        long completed = 0;
        long inFlight = 0;
        long queued = 0;
        long calls = 0;
        long eagain = 0;
        long partial = 0;
        long waits = 0;
        for (EngineLoop loop : loops.all()) {
            SubmitCounters counters = loop.submitCounters();
            submitted += counters.requestsAccepted.get();
            calls += counters.ioSubmitCalls.get();
            eagain += counters.eagainRetries.get();
            partial += counters.partialSubmits.get();
            completed += loop.completed();
            inFlight += loop.inFlight();
            queued += loop.queued();
            waits += loop.backpressureWaits();
        }
        return new AioEngineStats(submitted, completed, inFlight, queued, calls,
                sharedCounters.inlineHits.sum(), sharedCounters.inlineMisses.sum(), sharedCounters.poolRuns.sum(),
                sharedCounters.bounceCopiedBytes.sum(), waits, eagain, partial);
    }
}
