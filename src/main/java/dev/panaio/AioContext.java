package dev.panaio;

import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.context.GuardedContext;
import dev.panaio.internal.context.IocbWriter.Abi;
import dev.panaio.internal.context.RequestChecks;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One kernel AIO context: prepare requests, submit them in one
 * {@code io_submit}, and reap their completions straight from the ring the
 * kernel maps into the process.
 * {@snippet :
 * try (AioContext aio = AioContext.open(64);
 *      AioFile file = AioFile.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
 *      AioArena arena = AioArena.open()) {  // read in place; another arena's memory is copied
 *     MemorySegment buffers = arena.allocate(16 * 4096, 4096);
 *     for (int i = 0; i < 16; i++) {
 *         aio.prepareRead(file, buffers.asSlice(i * 4096L, 4096), i * 4096L, i); // tag = i
 *     }
 *     aio.submit();                                   // one io_submit for all 16
 *     int done = 0;
 *     while (done < 16) {
 *         done += aio.await(1, 1, TimeUnit.SECONDS, (tag, result) -> {
 *             if (result < 0) System.err.println("read " + tag + " failed: errno " + -result);
 *         });
 *     }
 * }
 * }
 *
 * <h2 id="requests">Requests</h2>
 * A context has {@link #capacity()} request slots, the capacity asked for.
 * Each prepared request takes a slot until its completion is delivered, so
 * the kernel never runs out of room for what panaio admits. Every request is
 * tagged with a {@code long} that comes back with its completion; tags need
 * not be unique. A read's result is the number of bytes read (fewer at end of
 * file, 0 past it), a write's the number written, a failure {@code -errno}.
 * {@link RequestOptions} carry rw flags, priority and eventfd notification;
 * syncs and polls take only the last two.
 *
 * <p>Preconditions are checked in Java when a request is prepared, before the
 * kernel sees it. A read or write throws {@link IllegalArgumentException} if
 * its memory is not native (or the {@code ByteBuffer} not direct), a read's
 * memory is read-only, a vectored request has no buffer or more than 1024,
 * the length is more than the kernel transfers in one call (2 GiB - 64 KiB,
 * within its MAX_RW_COUNT), or the position is negative or overflows with the
 * length; and {@link MisalignedIoException} if the file is direct and the
 * memory's address, the position or the length breaks the file's
 * {@link AioFile#alignment()}. The file must be open for the access asked for.
 * The memory must stay valid until the completion is delivered (see
 * <a href="#buffers">Buffers</a>).
 *
 * <h2>Submission and completions</h2>
 * {@link #submit()} hands every prepared request to the kernel, in prepare
 * order, in one io_submit. {@link #reap} takes whatever completions are in
 * the ring without a system call; {@link #await} waits in
 * {@code io_getevents} for a minimum number, with a timeout. Each completed
 * request is delivered exactly once, to a {@link CompletionConsumer}, without
 * allocation. If the ring's header is not the layout panaio knows, every reap
 * goes through io_getevents instead ({@link #reapsFromRing()}).
 *
 * <h2>Threads</h2>
 * The kernel allows one reaper per ring, and requests share slots, so a
 * context is used by one thread at a time, like a selector: prepare, submit,
 * reap and await must not run concurrently, and an attempt throws
 * {@link IllegalStateException}. Handing the context from thread to thread is
 * fine. A completion handler may prepare and submit on its own context.
 * {@link #close()} may be called from any thread at any time.
 *
 * <h2>Closing</h2>
 * {@link #close()} waits until the kernel has finished every request in
 * flight, so no buffer is written after it returns. Completions not yet
 * reaped are discarded by the kernel; requests prepared but not submitted are
 * dropped. Call {@link #await} until {@link #inFlight()} is 0 first to see
 * every completion. Using a closed context throws {@link IllegalStateException}.
 *
 * <h2 id="buffers">Buffers</h2>
 * The kernel writes into a read's buffer until its completion is reaped, and
 * reads a write's buffer until then: no memory that can be freed meanwhile is
 * ever handed to it.
 * <ul>
 *   <li>{@link AioArena} memory is used in place: each request holds a use of
 *       its arena from prepare until its completion is delivered, and the
 *       arena's {@code close()} throws meanwhile. One atomic operation to take
 *       the use, one to give it back.</li>
 *   <li>Memory the garbage collector frees ({@code ByteBuffer.allocateDirect}
 *       buffers, {@code Arena.global()} memory) is used in place and kept
 *       reachable until the completion is delivered.</li>
 *   <li>Any other memory ({@code Arena.ofShared()}, {@code ofConfined()},
 *       {@code ofAuto()}, which public API cannot tell apart) is copied
 *       through the context's own aligned memory: a write's bytes when it is
 *       prepared, a read's when its completion is reaped. If that copy back
 *       fails, because the buffer's arena was closed while the read was in
 *       flight (or is confined to another thread than the reaping one), the
 *       completion's result is {@code -EFAULT} (-14) and the bytes read are
 *       discarded: the kernel wrote only the context's memory. The copy costs
 *       one {@code memcpy} of the request's size; the context keeps up to
 *       1 MiB of bounce memory per slot for reuse.</li>
 * </ul>
 * Preparing, submitting and reaping allocate nothing for the first two kinds.
 * A context is used by one thread at a time, so it may take confined memory.
 *
 * <p>The work is done by parts in {@code dev.panaio.internal.context}: the
 * kernel context with its ring and memory, the request checks, the slot
 * table, the iocb writer, the submitter, the completion reaper with its queue
 * of pending completions, and the owner guard; this class holds them together.
 */
public final class AioContext implements AutoCloseable {
    /** Largest capacity accepted: far above any fs.aio-max-nr, low enough that slot arrays stay small. */
    public static final int MAX_CAPACITY = 1 << 20;

    static {
        SharedSecrets.setContextAccess(context -> context.parts);
    }

    /** The context's parts, each call made under the owner guard. */
    private final GuardedContext parts;

    private AioContext(GuardedContext parts) {
        this.parts = parts;
    }

    /**
     * Opens a context that holds {@code capacity} requests at once.
     *
     * <p>The kernel charges {@code capacity + 1} (one for the context's own
     * wake-up poll) to the system-wide {@code fs.aio-nr} until the context is
     * closed, and maps a ring of more slots than that ({@link #ringSize()}):
     * it needs the slack, because slots it caches per CPU are not always free
     * for another CPU. So {@link #capacity()} is what panaio admits: the
     * capacity asked for, which the kernel always accepts.
     *
     * @param capacity requests the context must hold at once, 1 to {@link #MAX_CAPACITY}
     * @return the open context
     * @throws IllegalArgumentException if capacity is out of range
     * @throws AioLimitException        if fs.aio-max-nr would be exceeded (the message says by how much), or the
     *                                  ring cannot be mapped (ENOMEM: the message names vm.max_map_count)
     * @throws AioException             if io_setup fails otherwise
     * @throws IllegalCallerException   if native access is not enabled for panaio, naming the flag
     */
    public static AioContext open(int capacity) throws IOException {
        return open(capacity, true);
    }

    /**
     * As {@link #open(int)}; with {@code reapFromRing} false, completions are
     * always read with io_getevents, as for a ring panaio does not recognise.
     * Tests use it to compare the two paths.
     */
    static AioContext open(int capacity, boolean reapFromRing) throws IOException {
        return new AioContext(GuardedContext.open(capacity, MAX_CAPACITY, reapFromRing));
    }

    /**
     * Requests the context holds at once, counting prepared ones, those in
     * flight and completions not yet delivered: the capacity passed to
     * {@link #open(int)}.
     *
     * @return the capacity, 1 to {@link #MAX_CAPACITY}
     */
    public int capacity() {
        return parts.capacity();
    }

    /**
     * Event slots of the ring the kernel mapped, read from the ring itself:
     * more than the capacity asked for (1 to 32 give 127 on 4 KiB pages).
     *
     * @return the number of event slots
     */
    public int ringSize() {
        return parts.ringSize();
    }

    /**
     * Whether completions are reaped from the ring in user space.
     *
     * @return true if reaped from the ring; false means every reap is io_getevents
     */
    public boolean reapsFromRing() {
        return parts.reapsFromRing();
    }

    /**
     * Requests prepared and not yet submitted.
     *
     * @return the number of prepared requests
     */
    public int prepared() {
        return parts.prepared();
    }

    /**
     * Requests submitted whose completions have not yet been delivered.
     *
     * @return the number of requests in flight
     */
    public int inFlight() {
        return parts.inFlight();
    }

    /**
     * Whether {@link #close()} has been called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return parts.isClosed();
    }

    // ---------------------------------------------------------------- prepare

    /**
     * As {@link #prepareRead(AioFile, MemorySegment, long, long, RequestOptions)}, without options.
     *
     * @param file     the file to read
     * @param dst      native memory the bytes are read into
     * @param position the file offset to read from
     * @param tag      a value returned with the completion
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareRead(AioFile file, MemorySegment dst, long position, long tag) throws MisalignedIoException {
        prepareRead(file, dst, position, tag, RequestOptions.NONE);
    }

    /**
     * Prepares a read of {@code dst.byteSize()} bytes of {@code file} at
     * {@code position} into {@code dst}. The result is the number of bytes
     * read: fewer at end of file, 0 past it.
     *
     * @param file     the file to read
     * @param dst      native memory the bytes are read into
     * @param position the file offset to read from
     * @param tag      a value returned with the completion
     * @param options  rw flags, priority and eventfd notification for this request
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareRead(AioFile file, MemorySegment dst, long position, long tag, RequestOptions options) throws MisalignedIoException {
        RequestChecks.checkSegment(dst, true);
        parts.prepareTransfer(Abi.CMD_PREAD, file, dst, null, false, position, tag, options);
    }

    /**
     * As {@link #prepareRead(AioFile, ByteBuffer, long, long, RequestOptions)}, without options.
     *
     * @param file     the file to read
     * @param dst      a direct buffer whose remaining bytes are read into
     * @param position the file offset to read from
     * @param tag      a value returned with the completion
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareRead(AioFile file, ByteBuffer dst, long position, long tag) throws MisalignedIoException {
        prepareRead(file, dst, position, tag, RequestOptions.NONE);
    }

    /**
     * As {@link #prepareRead(AioFile, MemorySegment, long, long, RequestOptions)}, into the remaining
     * bytes of a direct buffer; its position and limit are not changed.
     *
     * @param file     the file to read
     * @param dst      a direct buffer whose remaining bytes are read into
     * @param position the file offset to read from
     * @param tag      a value returned with the completion
     * @param options  rw flags, priority and eventfd notification for this request
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareRead(AioFile file, ByteBuffer dst, long position, long tag, RequestOptions options) throws MisalignedIoException {
        MemorySegment segment = RequestChecks.segmentOf(dst, true);
        parts.prepareTransfer(Abi.CMD_PREAD, file, segment, dst, false, position, tag, options);
    }

    /**
     * As {@link #prepareWrite(AioFile, MemorySegment, long, long, RequestOptions)}, without options.
     *
     * @param file     the file to write
     * @param src      native memory holding the bytes
     * @param position the file offset to write at
     * @param tag      a value returned with the completion
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareWrite(AioFile file, MemorySegment src, long position, long tag) throws MisalignedIoException {
        prepareWrite(file, src, position, tag, RequestOptions.NONE);
    }

    /**
     * Prepares a write of all of {@code src} to {@code file} at
     * {@code position}. The result is the number of bytes written.
     *
     * @param file     the file to write
     * @param src      native memory holding the bytes
     * @param position the file offset to write at
     * @param tag      a value returned with the completion
     * @param options  rw flags, priority and eventfd notification for this request
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareWrite(AioFile file, MemorySegment src, long position, long tag, RequestOptions options) throws MisalignedIoException {
        RequestChecks.checkSegment(src, false);
        parts.prepareTransfer(Abi.CMD_PWRITE, file, src, null, false, position, tag, options);
    }

    /**
     * As {@link #prepareWrite(AioFile, ByteBuffer, long, long, RequestOptions)}, without options.
     *
     * @param file     the file to write
     * @param src      a direct buffer whose remaining bytes are written
     * @param position the file offset to write at
     * @param tag      a value returned with the completion
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareWrite(AioFile file, ByteBuffer src, long position, long tag) throws MisalignedIoException {
        prepareWrite(file, src, position, tag, RequestOptions.NONE);
    }

    /**
     * As {@link #prepareWrite(AioFile, MemorySegment, long, long, RequestOptions)}, of the remaining
     * bytes of a direct buffer; its position and limit are not changed.
     *
     * @param file     the file to write
     * @param src      a direct buffer whose remaining bytes are written
     * @param position the file offset to write at
     * @param tag      a value returned with the completion
     * @param options  rw flags, priority and eventfd notification for this request
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareWrite(AioFile file, ByteBuffer src, long position, long tag, RequestOptions options) throws MisalignedIoException {
        MemorySegment segment = RequestChecks.segmentOf(src, false);
        parts.prepareTransfer(Abi.CMD_PWRITE, file, segment, src, false, position, tag, options);
    }

    /**
     * Prepares a vectored read ({@code IOCB_CMD_PREADV}): file bytes from
     * {@code position} fill {@code dsts} in order. At most 1024 buffers.
     *
     * @param file     the file to read
     * @param dsts     native segments filled in order
     * @param position the file offset to read from
     * @param tag      a value returned with the completion
     * @param options  rw flags, priority and eventfd notification for this request
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareReadVectored(AioFile file, MemorySegment[] dsts, long position, long tag,
                                    RequestOptions options) throws MisalignedIoException {
        parts.prepareVectored(Abi.CMD_PREADV, file, dsts, false, position, tag, options);
    }

    /**
     * Prepares a vectored write ({@code IOCB_CMD_PWRITEV}) of {@code srcs}, in
     * order, from {@code position}. At most 1024 buffers.
     *
     * @param file     the file to write
     * @param srcs     native segments written in order
     * @param position the file offset to write at
     * @param tag      a value returned with the completion
     * @param options  rw flags, priority and eventfd notification for this request
     * @throws IllegalArgumentException if the memory or position breaks a rule of <a href="#requests">Requests</a>
     * @throws MisalignedIoException    if the file is direct and the request breaks its {@link AioFile#alignment()}
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareWriteVectored(AioFile file, MemorySegment[] srcs, long position, long tag,
                                     RequestOptions options) throws MisalignedIoException {
        parts.prepareVectored(Abi.CMD_PWRITEV, file, srcs, false, position, tag, options);
    }

    /**
     * Prepares an fsync ({@code IOCB_CMD_FSYNC}): file data and metadata
     * reach stable storage. It runs on a kernel workqueue, so the submitter
     * does not wait for it. The result is 0 or {@code -errno}.
     *
     * @param file the file to sync
     * @param tag  a value returned with the completion
     * @throws IllegalStateException if the context or file is closed, or the context is full
     */
    public void prepareFsync(AioFile file, long tag) {
        parts.prepareSync(Abi.CMD_FSYNC, file, tag, RequestOptions.NONE);
    }

    /**
     * As {@link #prepareFsync(AioFile, long)}, with options: only priority and notify apply.
     *
     * @param file    the file to sync
     * @param tag     a value returned with the completion
     * @param options priority and eventfd notification for this request
     * @throws IllegalArgumentException if options carry rw flags
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareFsync(AioFile file, long tag, RequestOptions options) {
        parts.prepareSync(Abi.CMD_FSYNC, file, tag, options);
    }

    /**
     * Prepares an fdatasync ({@code IOCB_CMD_FDSYNC}): like fsync, skipping
     * metadata not needed to read the data. The result is 0 or {@code -errno}.
     *
     * @param file the file to sync
     * @param tag  a value returned with the completion
     * @throws IllegalStateException if the context or file is closed, or the context is full
     */
    public void prepareFdatasync(AioFile file, long tag) {
        parts.prepareSync(Abi.CMD_FDSYNC, file, tag, RequestOptions.NONE);
    }

    /**
     * As {@link #prepareFdatasync(AioFile, long)}, with options: only priority and notify apply.
     *
     * @param file    the file to sync
     * @param tag     a value returned with the completion
     * @param options priority and eventfd notification for this request
     * @throws IllegalArgumentException if options carry rw flags
     * @throws IllegalStateException    if the context or file is closed, or the context is full
     */
    public void prepareFdatasync(AioFile file, long tag, RequestOptions options) {
        parts.prepareSync(Abi.CMD_FDSYNC, file, tag, options);
    }

    /**
     * Prepares a one-shot poll ({@code IOCB_CMD_POLL}) for {@code events}
     * (the {@code POLLIN}, {@code POLLOUT} ... bits of poll(2)) on
     * {@code target}. It completes, with the ready events as its result, when
     * one of them is ready; at once if one already is. Unlike file I/O, a
     * pending poll can be {@linkplain #cancel(long) cancelled}.
     *
     * @param target the file or eventfd to poll
     * @param events the poll(2) event bits to wait for
     * @param tag    a value returned with the completion
     * @throws IllegalArgumentException if events is 0 or does not fit in 16 bits
     * @throws IllegalStateException    if the context or target is closed, or the context is full
     */
    public void preparePoll(Pollable target, int events, long tag) {
        preparePoll(target, events, tag, RequestOptions.NONE);
    }

    /**
     * As {@link #preparePoll(Pollable, int, long)}, with options: only priority and notify apply.
     *
     * @param target the file or eventfd to poll
     * @param events the poll(2) event bits to wait for
     * @param tag    a value returned with the completion
     * @param options priority and eventfd notification for this request
     * @throws IllegalArgumentException if events is 0 or does not fit in 16 bits, or options carry rw flags
     * @throws IllegalStateException    if the context or target is closed, or the context is full
     */
    public void preparePoll(Pollable target, int events, long tag, RequestOptions options) {
        parts.preparePoll(target, events, tag, options);
    }

    // ----------------------------------------------------------------- submit

    /**
     * Submits every prepared request, in prepare order, in one io_submit.
     *
     * <p>Should the kernel accept only part of the batch, or answer EAGAIN,
     * this method waits for completions (queued for the next {@link #reap} or
     * {@link #await}) and submits the rest; with nothing in flight it backs
     * off briefly and retries. Interrupted calls (EINTR) are retried.
     *
     * <p>io_submit may block: buffered I/O runs inside it, and even direct
     * I/O can wait for metadata or a full device queue.
     *
     * @return the number of requests submitted
     * @throws SubmitException       if the kernel rejected a request (or kept refusing room for it); it names
     *                               the request, those before it are in flight, those after it are handed back
     *                               unsubmitted
     * @throws IllegalStateException if the context is closed or used by another thread
     */
    public int submit() throws SubmitException {
        return parts.submit();
    }

    // ------------------------------------------------------------------- reap

    /**
     * As {@link #reap(int, CompletionConsumer)}, delivering every completion available now.
     *
     * @param consumer receives each completion's tag and result
     * @return the number delivered
     * @throws IllegalStateException if the context is closed or used by another thread
     */
    public int reap(CompletionConsumer consumer) {
        return reap(Integer.MAX_VALUE, consumer);
    }

    /**
     * Delivers at most {@code max} of the completions available now, without
     * waiting and, when reaping from the ring, without a system call.
     *
     * @param max      the most completions to deliver, at least 1
     * @param consumer receives each completion's tag and result
     * @return the number delivered
     * @throws IllegalArgumentException if max is less than 1
     * @throws IllegalStateException    if the context is closed or used by another thread
     */
    public int reap(int max, CompletionConsumer consumer) {
        return parts.reap(max, consumer);
    }

    /**
     * Delivers at least {@code min} completions, waiting in io_getevents up
     * to {@code timeout} for them; fewer only if the time runs out or the
     * context is closed meanwhile.
     *
     * @param min      1 to {@link #inFlight()}: waiting for more than are in flight would never end
     * @param timeout  how long to wait at most; 0 does not wait
     * @param unit     the unit of timeout
     * @param consumer receives each completion's tag and result
     * @return the number delivered, possibly more than min
     * @throws IllegalArgumentException if min is out of range or timeout is negative
     * @throws IllegalStateException    if the context is closed, before or during the wait with nothing
     *                                  delivered, or is used by another thread
     */
    public int await(int min, long timeout, TimeUnit unit, CompletionConsumer consumer) {
        Objects.requireNonNull(unit, "unit");
        if (timeout < 0) {
            // The kernel would take a negative timeout as "wait forever".
            throw new IllegalArgumentException("timeout must not be negative: " + timeout + " " + unit
                    + "; use await(min, consumer) to wait without a limit");
        }
        return parts.await(min, unit.toNanos(timeout), consumer);
    }

    /**
     * As {@link #await(int, long, TimeUnit, CompletionConsumer)}, without a time limit.
     *
     * @param min      1 to {@link #inFlight()}: waiting for more than are in flight would never end
     * @param consumer receives each completion's tag and result
     * @return the number delivered, possibly more than min
     * @throws IllegalArgumentException if min is out of range
     * @throws IllegalStateException    if the context is closed, before or during the wait with nothing
     *                                  delivered, or is used by another thread
     */
    public int await(int min, CompletionConsumer consumer) {
        return parts.await(min, -1, consumer);
    }

    // ----------------------------------------------------------------- cancel

    /**
     * Asks the kernel to cancel the in-flight request with {@code tag} (the
     * first one found, if tags repeat). Linux cancels only pending
     * {@linkplain #preparePoll polls}; file reads and writes in flight cannot
     * be cancelled and this returns false for them. A cancelled request still
     * completes, once, with result 0 or {@code -ECANCELED}.
     *
     * @param tag the tag the request was prepared with
     * @return whether the kernel accepted the cancellation
     */
    public boolean cancel(long tag) {
        return parts.cancel(tag);
    }

    // ------------------------------------------------------------------ close

    /**
     * Closes the context: no new calls are accepted, a thread blocked in
     * {@link #await} is woken (it returns what it has, or throws
     * {@link IllegalStateException}), io_destroy waits for every request in
     * flight to finish, and native memory is released. Idempotent and
     * callable from any thread; it returns once the owner thread, if any, has
     * left its call. Called from a completion handler, the teardown finishes
     * when the handler's reap returns.
     */
    @Override
    public void close() {
        parts.close();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "AioContext[capacity=%d, ring=%d, prepared=%d, inFlight=%d%s%s]",
                capacity(), ringSize(), prepared(), inFlight(), reapsFromRing() ? ", user-space reaping"
                        : ", io_getevents", isClosed() ? ", closed" : "");
    }
}
