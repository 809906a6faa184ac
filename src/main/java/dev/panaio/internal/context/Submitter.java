package dev.panaio.internal.context;

import dev.panaio.EventFd;
import dev.panaio.IoPriority;
import dev.panaio.RequestOptions;
import dev.panaio.SubmitException;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.jfr.SubmitRetryEvent;
import dev.panaio.internal.stats.SubmitCounters;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The submission side of a context: prepares requests into free slots
 * (checked already by {@link RequestChecks}) and hands the batch to the
 * kernel in one io_submit, with the retry policy for a kernel that has no
 * room.
 *
 * <p>Not thread-safe: used by the context's owner thread, inside its
 * {@link OwnerGuard}.
 */
public final class Submitter {
    private static final SharedSecrets.OptionsAccess OPTIONS = SharedSecrets.optionsAccess();
    private static final SharedSecrets.EventFdAccess EVENT_FDS = SharedSecrets.eventFdAccess();

    /** When io_submit says EAGAIN with nothing in flight, how many times to back off before giving up. */
    private static final int EAGAIN_RETRIES = 100;
    private static final long EAGAIN_BACKOFF_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    /** How long submit() waits for a completion when the kernel has no room, before trying again. */
    private static final long ROOM_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final long ctx;
    private final ContextCalls calls;
    private final OwnerGuard guard;
    private final SlotTable slots;
    private final IocbWriter iocbs;
    private final PendingCompletions pending;
    private final CompletionReaper reaper;
    private final MemorySegment errno;
    private final SubmitCounters counters = new SubmitCounters();

    /** The submission side of context {@code ctx}, over the context's other parts. */
    public Submitter(long ctx, ContextCalls calls, OwnerGuard guard, SlotTable slots, IocbWriter iocbs,
                     PendingCompletions pending, CompletionReaper reaper, MemorySegment errno) {
        this.ctx = ctx;
        this.calls = calls;
        this.guard = guard;
        this.slots = slots;
        this.iocbs = iocbs;
        this.pending = pending;
        this.reaper = reaper;
        this.errno = errno;
    }

    /**
     * Prepares one request on {@code file} into a free slot: {@code buf},
     * {@code nbytes} and {@code offset} are the iocb's fields for the opcode.
     * {@code keepAlive} stays reachable until the completion is reaped.
     *
     * @throws IllegalStateException if every slot is taken, or the file or the options' eventfd is closed
     */
    public void prepare(short opcode, FileDescriptorHandle file, RequestOptions options, long buf, long nbytes,
                        long offset, long tag, Object keepAlive) {
        int slot = takeSlot(file);
        try {
            write(slot, opcode, file.fd(), options, buf, nbytes, offset, tag);
            iocbs.point(slots.addPrepared(slot, keepAlive), slot);
        } catch (RuntimeException | Error e) {
            slots.abort(slot);
            throw e;
        }
    }

    /**
     * Prepares a read or write of {@code segment} (checked already), which the
     * kernel gets in place or through the slot's bounce memory
     * ({@link RequestMemory}); {@code buffer} is the caller's direct
     * ByteBuffer it views, or null. {@code handedOver} memory is the engine's
     * to guard, and goes to the kernel in place.
     */
    public void prepareTransfer(short opcode, FileDescriptorHandle file, RequestOptions options,
                                MemorySegment segment, ByteBuffer buffer, boolean handedOver, long offset, long tag) {
        boolean read = opcode == IocbWriter.Abi.CMD_PREAD;
        int slot = takeSlot(file);
        try {
            long address = handedOver ? segment.address()
                    : buffer != null ? slots.memory().address(slot, buffer, segment, read)
                    : slots.memory().address(slot, segment, read);
            write(slot, opcode, file.fd(), options, address, segment.byteSize(), offset, tag);
            iocbs.point(slots.addPrepared(slot, buffer != null ? buffer : segment), slot);
        } catch (RuntimeException | Error e) {
            slots.abort(slot);
            throw e;
        }
    }

    /**
     * Prepares a vectored request of {@code buffers} (checked, and an array nobody changes meanwhile).
     * {@code handedOver} memory is the engine's to guard, and goes to the kernel in place.
     */
    public void prepareVectored(short opcode, FileDescriptorHandle file, RequestOptions options,
                                MemorySegment[] buffers, boolean handedOver, long total, long offset, long tag) {
        int slot = takeSlot(file);
        try {
            MemorySegment[] kernel = handedOver ? buffers : slots.memory().vector(slot, buffers, total,
                    opcode == IocbWriter.Abi.CMD_PREADV);
            long vec = iocbs.writeIovecs(slot, kernel);
            write(slot, opcode, file.fd(), options, vec, kernel.length, offset, tag);
            iocbs.point(slots.addPrepared(slot, buffers), slot);
        } catch (RuntimeException | Error e) {
            slots.abort(slot);
            throw e;
        }
    }

    private int takeSlot(FileDescriptorHandle file) {
        if (slots.isFull()) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "all %d request slots are in use (%d prepared, %d in flight): submit and reap first",
                    slots.capacity(), slots.prepared(), slots.inFlight() + pending.count()));
        }
        return slots.take(file);
    }

    /** The options become iocb flags; an eventfd to signal is held with the slot until io_submit takes it. */
    private void write(int slot, short opcode, int fd, RequestOptions options, long buf, long nbytes, long offset,
                       long tag) {
        int flags = 0;
        short reqprio = 0;
        int resfd = 0;
        int rwFlags = 0;
        if (options != RequestOptions.NONE) { // the usual request has no options: nothing to look up
            IoPriority priority = OPTIONS.priority(options);
            if (priority != null) {
                flags |= IocbWriter.Abi.FLAG_IOPRIO;
                reqprio = OPTIONS.reqprio(priority);
            }
            EventFd notify = OPTIONS.notifyEventFd(options);
            if (notify != null) {
                flags |= IocbWriter.Abi.FLAG_RESFD;
                resfd = slots.holdNotify(slot, EVENT_FDS.handle(notify));
            }
            rwFlags = OPTIONS.rwFlags(options);
        }
        iocbs.write(slot, opcode, fd, rwFlags, flags, reqprio, resfd, buf, nbytes, offset);
        slots.setTag(slot, tag);
    }

    /**
     * Submits the context's own poll on its wake-up eventfd. It completes only
     * when close() signals the eventfd, and so wakes a thread blocked in
     * io_getevents on this context before io_destroy runs: the waiter can then
     * never block on a later context that reuses this one's id.
     */
    public void armWakeup(int eventFd) throws IOException {
        MemorySegment cb = iocbs.writeWakeupPoll(eventFd, CompletionReaper.WAKE_DATA);
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment pointer = scratch.allocateFrom(ValueLayout.JAVA_LONG, cb.address());
            long ret = Syscalls.restartOnEintr(() -> calls.ioSubmit(errno, ctx, 1, pointer));
            if (ret != 1) {
                throw ErrnoExceptions.of("io_submit", "the context's wake-up poll", ret < 0 ? (int) -ret
                        : ErrnoExceptions.EAGAIN);
            }
        }
    }

    /** What this submitter did, for the engine's statistics; read from any thread. */
    public SubmitCounters counters() {
        return counters;
    }

    /**
     * Submits every prepared request, in prepare order. Should the kernel
     * accept only part of the batch, or answer EAGAIN, waits for completions
     * (queued for the next reap) and submits the rest; with nothing in flight
     * it backs off briefly and retries. EINTR is retried.
     *
     * @return the number of requests submitted
     */
    public int submit() throws SubmitException {
        int total = slots.prepared();
        int done = 0;
        int eagainRetries = 0;
        while (done < total) {
            if (guard.isClosed()) {
                // Closed while this thread waited for room. The first `done` are in the kernel; the rest never
                // reached it and give their slots back now, so that teardown sees nothing prepared.
                slots.abortPreparedFrom(done);
                throw new IllegalStateException(String.format(Locale.ROOT, "AioContext closed during submit: %d of "
                        + "%d requests were submitted, the rest were dropped", done, total));
            }
            long ret = calls.ioSubmit(errno, ctx, total - done, iocbs.pointersFrom(done));
            counters.ioSubmitCalls.increment();
            if (ret > 0) {
                counters.requestsAccepted.add(ret);
                if (ret < total - done) {
                    counters.partialSubmits.increment();
                    SubmitRetryEvent.emit(total - done, (int) ret, false);
                }
                slots.markSubmitted(done, (int) ret);
                done += (int) ret;
                eagainRetries = 0;
            } else if (ret == -ErrnoExceptions.EINTR) {
                continue; // not restartOnEintr: a close() during the retry must be seen first
            } else if ((ret == -ErrnoExceptions.EAGAIN || ret == 0) && eagainRetries++ < EAGAIN_RETRIES) {
                counters.eagainRetries.increment();
                SubmitRetryEvent.emit(total - done, 0, true);
                // No room in the kernel: let completions free some, never waiting without a limit.
                if (slots.inFlight() > 0) {
                    reaper.waitIntoQueue(ROOM_WAIT_NANOS);
                } else {
                    LockSupport.parkNanos(EAGAIN_BACKOFF_NANOS);
                }
            } else {
                int errnoValue = ret == 0 ? ErrnoExceptions.EAGAIN : (int) -ret;
                throw rejectBatch(done, total, errnoValue, ret == -ErrnoExceptions.EAGAIN || ret == 0);
            }
        }
        slots.clearPrepared();
        return total;
    }

    /** The request at {@code failed} was rejected: free it and the rest, and say so precisely. */
    private SubmitException rejectBatch(int failed, int total, int errnoValue, boolean noRoom) {
        int failedSlot = slots.preparedSlot(failed);
        long failedTag = slots.tag(failedSlot);
        String request = iocbs.describe(failedSlot);
        long[] unsubmitted = new long[total - failed - 1];
        for (int i = failed + 1; i < total; i++) {
            unsubmitted[i - failed - 1] = slots.tag(slots.preparedSlot(i));
        }
        slots.abortPreparedFrom(failed);
        String reason = noRoom
                ? String.format(Locale.ROOT, "%s: the kernel kept refusing room for it (%d tries)",
                ErrnoExceptions.describe(errnoValue), EAGAIN_RETRIES)
                : ErrnoExceptions.describe(errnoValue);
        String message = String.format(Locale.ROOT,
                "io_submit rejected request %d of a batch of %d (tag %d, %s): %s. The %d before it are in flight; "
                        + "the %d after it were not submitted and are handed back",
                failed, total, failedTag, request, reason, failed, unsubmitted.length);
        return SharedSecrets.exceptionAccess().submitException(message, errnoValue, failed, failedTag, unsubmitted);
    }
}
