package dev.panaio.internal.context;

import dev.panaio.EventFd;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.ring.CompletionRing;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What one context holds of the kernel and of native memory, and the order in
 * which it is given back: the kernel context ({@code io_setup}), the view of
 * the completion ring the kernel maps, the eventfd whose poll wakes a thread
 * waiting in {@code io_getevents}, and the arena of the context's own memory
 * (iocbs, the events io_getevents writes).
 *
 * <p>The order of {@link #destroy(Runnable)} is the point of this class: the
 * ring view is closed before {@code io_destroy} unmaps the ring, and memory the
 * kernel may still write is released only after {@code io_destroy} has waited
 * for every request in flight.
 */
public final class KernelContext {
    private static final SharedSecrets.EventFdAccess EVENT_FDS = SharedSecrets.eventFdAccess();

    private final long ctx;
    private final ContextCalls calls;
    private final CompletionRing ring;
    private final int ringSize;
    private final Arena arena;
    /** Owns only the view of the kernel's ring mapping. */
    private final Arena ringArena;
    private final EventFd wakeup;

    private KernelContext(long ctx, ContextCalls calls, CompletionRing ring, int ringSize, Arena arena,
                          Arena ringArena, EventFd wakeup) {
        this.ctx = ctx;
        this.calls = calls;
        this.ring = ring;
        this.ringSize = ringSize;
        this.arena = arena;
        this.ringArena = ringArena;
        this.wakeup = wakeup;
    }

    /**
     * Sets up a kernel context of {@code nr} events with the calls a test may
     * have put in place ({@link ContextCalls#forNewContext()}), maps its ring
     * unless {@code reapFromRing} is false, and opens the wake-up eventfd.
     * Whatever was acquired is given back if a later step fails.
     *
     * @param nr           the events asked of {@code io_setup}
     * @param reapFromRing whether to map the ring for reaping in user space
     * @return the resources, owned by the caller until {@link #destroy(Runnable)}
     * @throws IOException if {@code io_setup} fails (typed by {@link ErrnoExceptions#ioSetup}) or the eventfd
     *                     cannot be opened
     */
    public static KernelContext open(int nr, boolean reapFromRing) throws IOException {
        ContextCalls calls = ContextCalls.forNewContext();
        long ctx;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment ctxp = scratch.allocate(ValueLayout.JAVA_LONG); // zeroed: io_setup requires *ctxp == 0
            long ret = Syscalls.io_setup(Syscalls.errnoCapture(scratch), nr, ctxp);
            if (ret < 0) {
                throw ErrnoExceptions.ioSetup(nr, (int) -ret);
            }
            ctx = ctxp.get(ValueLayout.JAVA_LONG, 0);
        }
        Arena arena = Arena.ofShared();
        Arena ringArena = Arena.ofShared();
        EventFd wakeup = null;
        try {
            wakeup = EventFd.open();
            CompletionRing ring = reapFromRing ? CompletionRing.map(ctx, ringArena) : null;
            int ringSize = ring != null ? ring.slots() : CompletionRing.slotsOf(ctx);
            return new KernelContext(ctx, calls, ring, ringSize, arena, ringArena, wakeup);
        } catch (IOException | RuntimeException | Error e) {
            ringArena.close();
            try (Arena scratch = Arena.ofConfined()) {
                calls.ioDestroy(Syscalls.errnoCapture(scratch), ctx);
            }
            arena.close();
            if (wakeup != null) {
                wakeup.close();
            }
            throw e;
        }
    }

    /** The kernel's handle of the context ({@code aio_context_t}). */
    public long ctx() {
        return ctx;
    }

    /** The calls this context makes: the kernel's, or a test's. */
    public ContextCalls calls() {
        return calls;
    }

    /** The mapped ring, or {@code null} when completions are read with {@code io_getevents}. */
    public CompletionRing ring() {
        return ring;
    }

    /** Slots in the kernel's ring. */
    public int ringSize() {
        return ringSize;
    }

    /** The arena of the context's own memory, released by {@link #destroy(Runnable)}. */
    public Arena arena() {
        return arena;
    }

    /** Owns the ring view only; for the test of the teardown's order. */
    Arena ringArena() {
        return ringArena;
    }

    /** The descriptor of the wake-up eventfd, which the context polls. */
    public int wakeupFd() {
        return EVENT_FDS.handle(wakeup).fd();
    }

    /** Completes the wake-up poll: a thread in {@code io_getevents} on this context returns. */
    public void wake() {
        try {
            wakeup.write(1);
        } catch (IOException e) {
            // Cannot happen while the context holds the eventfd; the owner's waits are bounded anyway.
        }
    }

    /**
     * Gives everything back, once no thread is inside the context: the ring
     * view, then the kernel context ({@code io_destroy} blocks until the
     * requests in flight are done), then {@code afterDestroy} (the slots'
     * holds on caller memory), then the context's memory and the eventfd.
     *
     * @param afterDestroy run once the kernel can no longer touch any request's memory
     */
    public void destroy(Runnable afterDestroy) {
        ringArena.close(); // the ring view dies before the mapping does
        try (Arena scratch = Arena.ofConfined()) {
            calls.ioDestroy(Syscalls.errnoCapture(scratch), ctx);
        }
        afterDestroy.run();
        arena.close();
        try {
            wakeup.close();
        } catch (IOException e) {
            // the descriptor is released either way
        }
    }
}
