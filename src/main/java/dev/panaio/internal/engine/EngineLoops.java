package dev.panaio.internal.engine;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An engine's threads, each an {@link EngineLoop} with its own context:
 * opened all or none, chosen for each request, summed for the engine's
 * figures, and shut down together.
 *
 * <p>Thread-safe.
 */
public final class EngineLoops {
    private final EngineLoop[] loops;
    private final AtomicInteger next = new AtomicInteger();

    /**
     * Opens {@code threads} loops named {@code panaio-engine-<engineId>-<i>}; if one cannot open, those already
     * open are shut down again.
     */
    public EngineLoops(int threads, int capacity, int maxPending, int engineId) throws IOException {
        this.loops = new EngineLoop[threads];
        try {
            for (int i = 0; i < loops.length; i++) {
                loops[i] = new EngineLoop(capacity, maxPending,
                        String.format(Locale.ROOT, "panaio-engine-%d-%d", engineId, i));
            }
        } catch (IOException | RuntimeException | Error e) { // an Error: no thread for a loop, say
            for (EngineLoop loop : loops) {
                if (loop != null) {
                    loop.shutdown();
                    loop.awaitTermination();
                }
            }
            throw e;
        }
    }

    /** The loops, for summing their figures. */
    public List<EngineLoop> all() {
        return List.of(loops);
    }

    /** How many threads the engine has. */
    public int count() {
        return loops.length;
    }

    /**
     * The loop a request goes to. An engine thread submits to its own loop,
     * where it is never held back (a callback must not wait for an engine
     * thread, its own or another's); other threads take turns.
     */
    public EngineLoop loopFor() {
        if (loops.length == 1) {
            return loops[0];
        }
        for (EngineLoop loop : loops) {
            if (loop.isEngineThread()) {
                return loop;
            }
        }
        return loops[Math.floorMod(next.getAndIncrement(), loops.length)];
    }

    /** The sum of the contexts' capacities. */
    public int capacity() {
        int total = 0;
        for (EngineLoop loop : loops) {
            total += loop.capacity();
        }
        return total;
    }

    /** Requests queued or in the kernel now, an unsynchronised snapshot. */
    public int outstanding() {
        int total = 0;
        for (EngineLoop loop : loops) {
            total += loop.outstanding();
        }
        return total;
    }

    /** Whether the calling thread is one of these loops' threads. */
    public boolean isEngineThread() {
        if (!EngineLoop.isAnyEngineThread()) {
            return false; // one type check, where every blocking channel call asks
        }
        for (EngineLoop loop : loops) {
            if (loop.isEngineThread()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Shuts every loop down and, unless called from one of their threads,
     * waits for them: an engine thread must not wait for the others, since
     * two callbacks closing at once would wait forever.
     */
    public void shutdown() {
        for (EngineLoop loop : loops) {
            loop.shutdown();
        }
        if (!isEngineThread()) {
            for (EngineLoop loop : loops) {
                loop.awaitTermination();
            }
        }
    }
}
