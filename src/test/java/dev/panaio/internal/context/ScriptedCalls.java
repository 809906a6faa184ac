package dev.panaio.internal.context;

import dev.panaio.AioContext;
import dev.panaio.AioEngine;
import dev.panaio.internal.gen.aio_abi.__kernel_timespec;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Context calls a test scripts: each goes to the kernel unless the test put
 * its own answer in place, and every call is logged. Installed only for the
 * open of one context ({@link #open}), which keeps them for its life.
 */
final class ScriptedCalls implements ContextCalls {
    @FunctionalInterface
    interface Submit {
        long call(MemorySegment errno, long ctx, long nr, MemorySegment iocbpp);
    }

    @FunctionalInterface
    interface GetEvents {
        long call(MemorySegment errno, long ctx, long minNr, long nr, MemorySegment events, MemorySegment timeout);
    }

    @FunctionalInterface
    interface Destroy {
        long call(MemorySegment errno, long ctx);
    }

    /** One call as the kernel would have seen it; {@code timeoutNanos} is -1 for none, or for other calls. */
    record Call(String name, long minNr, long nr, long timeoutNanos, long result) {
    }

    volatile Submit submit = KERNEL::ioSubmit;
    volatile GetEvents getEvents = KERNEL::ioGetevents;
    volatile Destroy destroy = KERNEL::ioDestroy;
    private final List<Call> log = Collections.synchronizedList(new ArrayList<>());

    /** Opens a context that makes these calls. */
    AioContext open(int capacity) throws IOException {
        ContextCallsTestHook.replacement = this;
        try {
            return AioContext.open(capacity);
        } finally {
            ContextCallsTestHook.replacement = null;
        }
    }

    /** Builds an engine whose loops' contexts make these calls (each loop opens its context in {@code build}). */
    AioEngine openEngine(AioEngine.Builder builder) throws IOException {
        ContextCallsTestHook.replacement = this;
        try {
            return builder.build();
        } finally {
            ContextCallsTestHook.replacement = null;
        }
    }

    /** The calls named {@code name} so far. */
    List<Call> calls(String name) {
        synchronized (log) {
            return log.stream().filter(c -> c.name().equals(name)).toList();
        }
    }

    /** Forgets the calls made so far. */
    void clearLog() {
        log.clear();
    }

    @Override
    public long ioSubmit(MemorySegment errno, long ctx, long nr, MemorySegment iocbpp) {
        long ret = submit.call(errno, ctx, nr, iocbpp);
        log.add(new Call("io_submit", 0, nr, -1, ret));
        return ret;
    }

    @Override
    public long ioGetevents(MemorySegment errno, long ctx, long minNr, long nr, MemorySegment events,
                            MemorySegment timeout) {
        long timeoutNanos = timeout.equals(MemorySegment.NULL) ? -1
                : __kernel_timespec.tv_sec(timeout) * 1_000_000_000L + __kernel_timespec.tv_nsec(timeout);
        long ret = getEvents.call(errno, ctx, minNr, nr, events, timeout);
        log.add(new Call("io_getevents", minNr, nr, timeoutNanos, ret));
        return ret;
    }

    @Override
    public long ioDestroy(MemorySegment errno, long ctx) {
        long ret = destroy.call(errno, ctx);
        log.add(new Call("io_destroy", 0, 0, -1, ret));
        return ret;
    }
}
