package dev.panaio.internal.context;

import dev.panaio.AioFile;
import dev.panaio.CompletionConsumer;
import dev.panaio.EventFd;
import dev.panaio.MisalignedIoException;
import dev.panaio.Pollable;
import dev.panaio.RequestOptions;
import dev.panaio.SubmitException;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.context.IocbWriter.Abi;
import dev.panaio.internal.stats.SubmitCounters;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.NativeAccess;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Objects;

/**
 * What a {@link dev.panaio.AioContext} does behind its API: holds the
 * context's parts together (the kernel context, the owner guard, the slot
 * table, the pending completions, the submitter and the reaper), checks each
 * request before the kernel sees it, and makes every call under the owner
 * guard.
 *
 * <p>Thread-safety: as {@code AioContext}, one thread at a time, which the
 * owner guard enforces; {@link #close} from any thread.
 */
public final class GuardedContext {
    private static final SharedSecrets.FileAccess FILES = SharedSecrets.fileAccess();
    private static final SharedSecrets.EventFdAccess EVENT_FDS = SharedSecrets.eventFdAccess();

    /** The kernel context, its ring, the wake-up eventfd and the context's memory. */
    private final KernelContext kernel;

    private final OwnerGuard guard;
    private final SlotTable slots;
    private final PendingCompletions pending;
    private final Submitter submitter;
    private final CompletionReaper reaper;

    private GuardedContext(KernelContext kernel, int capacity) {
        this.kernel = kernel;
        this.guard = new OwnerGuard(kernel::wake, this::teardown);
        this.slots = new SlotTable(capacity);
        this.pending = new PendingCompletions(capacity);
        Arena arena = kernel.arena();
        // What every io_submit passes as a segment (this errno word and the iocb pointer array) is GC-managed:
        // a downcall acquires a shared arena's session with a compare-and-set, and releases it with another, on
        // every call, where an automatic one costs nothing. The kernel reads them only during the call, and the
        // fields that hold them keep them reachable for as long as any call can be made.
        MemorySegment errno = Syscalls.errnoCapture(Arena.ofAuto());
        IocbWriter iocbs = new IocbWriter(arena, capacity);
        this.reaper = new CompletionReaper(kernel.ctx(), kernel.calls(), kernel.ring(), guard, slots, pending, iocbs,
                arena, errno);
        this.submitter = new Submitter(kernel.ctx(), kernel.calls(), guard, slots, iocbs, pending, reaper, errno);
    }

    /**
     * Opens a context of {@code capacity} requests, between 1 and
     * {@code maxCapacity}; with {@code reapFromRing} false, completions are
     * always read with io_getevents.
     */
    public static GuardedContext open(int capacity, int maxCapacity, boolean reapFromRing) throws IOException {
        if (capacity < 1 || capacity > maxCapacity) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "capacity must be between 1 and %d, not %d", maxCapacity, capacity));
        }
        NativeAccess.ensureEnabled();
        KernelContext kernel = KernelContext.open(capacity + 1, reapFromRing);
        try {
            GuardedContext context = new GuardedContext(kernel, capacity);
            context.submitter.armWakeup(kernel.wakeupFd());
            return context;
        } catch (RuntimeException | Error e) {
            kernel.destroy(() -> { });
            throw e;
        }
    }

    /** Requests the context holds at once: the capacity it was opened with. */
    public int capacity() {
        return slots.capacity();
    }

    /** Slots of the ring the kernel mapped. */
    public int ringSize() {
        return kernel.ringSize();
    }

    /** Whether completions are read from the ring in user space. */
    public boolean reapsFromRing() {
        return reaper.reapsFromRing();
    }

    /** Requests prepared and not yet submitted. */
    public int prepared() {
        return slots.prepared();
    }

    /** Requests submitted whose completions are not yet delivered. */
    public int inFlight() {
        return slots.inFlight() + pending.count();
    }

    /** Whether the context is closed, or closing. */
    public boolean isClosed() {
        return guard.isClosed();
    }

    /** The context's io_submit counts. */
    public SubmitCounters submitCounters() {
        return submitter.counters();
    }

    /** A poll of {@code target}, its events and options checked first. */
    public void preparePoll(Pollable target, int events, long tag, RequestOptions options) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(options, "options");
        RequestChecks.checkPollEvents(events);
        RequestChecks.checkNoRwFlags(options, "poll takes");
        FileDescriptorHandle handle = switch (target) {
            case AioFile file -> FILES.handle(file);
            case EventFd eventFd -> EVENT_FDS.handle(eventFd);
        };
        guard.enter();
        try {
            submitter.prepare(Abi.CMD_POLL, handle, options, events, 0, 0, tag, null);
        } finally {
            guard.exit();
        }
    }

    /** For the engine: memory whose lifetime it guards itself goes to the kernel in place. */
    public void prepareHandedOver(boolean read, AioFile file, MemorySegment memory, long position, long tag,
                                  RequestOptions options) throws MisalignedIoException {
        RequestChecks.checkSegment(memory, read);
        prepareTransfer(read ? Abi.CMD_PREAD : Abi.CMD_PWRITE, file, memory, null, true, position, tag, options);
    }

    /**
     * A read ({@code CMD_PREAD}) or write ({@code CMD_PWRITE}) of
     * {@code segment}, the memory of {@code buffer} when that is not null;
     * checked against the file's alignment and the kernel's limits first.
     */
    public void prepareTransfer(short opcode, AioFile file, MemorySegment segment, ByteBuffer buffer,
                                boolean handedOver, long position, long tag, RequestOptions options)
            throws MisalignedIoException {
        RequestChecks.checkTransfer(opcode == Abi.CMD_PREAD, file, segment.address(), segment.byteSize(), position,
                options);
        guard.enter();
        try {
            submitter.prepareTransfer(opcode, FILES.handle(file), options, segment, buffer, handedOver, position,
                    tag);
        } finally {
            guard.exit();
        }
    }

    /**
     * A vectored read ({@code CMD_PREADV}) or write ({@code CMD_PWRITEV}).
     * {@code handedOver}: the engine guards the memory's lifetime and owns
     * the array; the kernel gets it in place. Otherwise the array is copied.
     */
    public void prepareVectored(short opcode, AioFile file, MemorySegment[] buffers, boolean handedOver,
                                long position, long tag, RequestOptions options) throws MisalignedIoException {
        boolean read = opcode == Abi.CMD_PREADV;
        long total = RequestChecks.checkVectored(file, buffers, read);
        RequestChecks.checkTransfer(read, file, 0, total, position, options);
        MemorySegment[] keepAlive = handedOver ? buffers : buffers.clone();
        guard.enter();
        try {
            submitter.prepareVectored(opcode, FILES.handle(file), options, keepAlive, handedOver, total, position,
                    tag);
        } finally {
            guard.exit();
        }
    }

    /** An fsync ({@code CMD_FSYNC}) or fdatasync ({@code CMD_FDSYNC}). */
    public void prepareSync(short opcode, AioFile file, long tag, RequestOptions options) {
        Objects.requireNonNull(file, "file");
        // The kernel answers EINVAL: fsync iocbs must have buf, nbytes, offset and rw_flags all 0.
        RequestChecks.checkNoRwFlags(options, "fsync and fdatasync take");
        guard.enter();
        try {
            submitter.prepare(opcode, FILES.handle(file), options, 0, 0, 0, tag, null);
        } finally {
            guard.exit();
        }
    }

    /** Submits every prepared request; keeps the pin on the last file across batches. */
    public int submit() throws SubmitException {
        guard.enter();
        try {
            return submitter.submit();
        } finally {
            slots.repin();
            guard.exit();
        }
    }

    /** Delivers at most {@code max} completions (at least 1) found in the ring, without waiting. */
    public int reap(int max, CompletionConsumer consumer) {
        Objects.requireNonNull(consumer, "consumer");
        if (max < 1) {
            throw new IllegalArgumentException("max must be positive: " + max);
        }
        guard.enter();
        try {
            return reaper.reap(max, consumer);
        } finally {
            guard.exit();
        }
    }

    /** Waits for at least {@code min} completions, at most {@code timeoutNanos} (negative: no limit). */
    public int await(int min, long timeoutNanos, CompletionConsumer consumer) {
        Objects.requireNonNull(consumer, "consumer");
        guard.enter();
        try {
            return reaper.await(min, timeoutNanos, consumer);
        } finally {
            guard.exit();
        }
    }

    /** Asks the kernel to cancel the first in-flight request tagged {@code tag}. */
    public boolean cancel(long tag) {
        guard.enter();
        try {
            return reaper.cancel(tag);
        } finally {
            guard.exit();
        }
    }

    /** Closes the context: wakes its owner, waits for it to leave, then tears down. */
    public void close() {
        guard.close();
    }

    /** The engine's thread lets go of its pinned file before it sleeps; a closed context has none. */
    public void releasePinnedFile() {
        if (isClosed()) {
            return;
        }
        guard.enter();
        try {
            slots.dropPin();
        } finally {
            guard.exit();
        }
    }

    /** Runs when no thread is inside the context: ring view, kernel context, then memory. */
    private void teardown() {
        kernel.destroy(slots::releaseAll);
    }
}
