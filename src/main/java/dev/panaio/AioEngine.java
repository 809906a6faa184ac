package dev.panaio;

import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.engine.EngineCore;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.memory.AlignedBufferPool;
import dev.panaio.internal.stats.EngineMXBean;
import dev.panaio.internal.stats.PlatformMBeans;
import dev.panaio.internal.sys.NativeAccess;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.util.Locale;
import java.util.Objects;
import javax.management.ObjectName;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread-safe asynchronous file I/O on kernel AIO: any thread, including
 * thousands of virtual threads, submits; engine threads batch, submit and
 * reap.
 * {@snippet :
 * try (AioEngine engine = AioEngine.open();
 *      AioFile file = AioFile.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
 *      AioArena arena = AioArena.open()) {             // read in place; other arenas are copied
 *     MemorySegment block = arena.allocate(4096, 4096);
 *     int bytes = engine.read(file, block, 0).join();
 * }
 * }
 *
 * <h2>How it works</h2>
 * Each engine thread owns one {@link AioContext}. A submitting thread puts
 * its request on that thread's lock-free queue and returns at once: it does
 * not enter io_submit, which can block (buffered I/O runs inside it; even
 * direct I/O can wait for metadata or a full device queue). The one exception
 * is an idle engine (nothing queued or in flight): a direct read or write is
 * then submitted by its caller, one request in one io_submit, which saves the
 * wake-up of the engine thread; its completion still comes back through the
 * engine thread. The engine thread moves
 * everything queued into its context, submits it with one io_submit, and
 * reaps completions from the ring; when idle it sleeps on an eventfd that the
 * kernel signals on every completion ({@code IOCB_FLAG_RESFD}) and submitters
 * signal when they find it asleep. Many concurrent requests are thereby
 * coalesced into few system calls.
 *
 * <h2>Backpressure</h2>
 * At most {@link #capacity()} requests are in the kernel at once; the rest
 * wait in the queues. A queue holds at most {@code maxPending} requests;
 * beyond that, a submitting thread parks until there is room (a virtual
 * thread unmounts). A busy engine never throws and never grows without bound.
 * Submissions from an engine thread itself (from a completion callback) are
 * never held back, so a callback cannot deadlock the engine.
 *
 * <h2>Completions</h2>
 * Futures are completed on the engine thread, so dependent stages added with
 * the non-async {@code CompletableFuture} methods run there too: keep them
 * short, or use the {@code *Async} variants. A failed request completes its
 * future exceptionally with an {@link AioException} naming the errno.
 *
 * <h2>Shutdown</h2>
 * {@link #close()} stops accepting requests, fails each queued one with
 * {@link AsynchronousCloseException}, cancels pending polls, waits for the
 * kernel to finish every request in flight (each completes normally), and
 * then closes the contexts: every request completes exactly once. Engine
 * threads are daemons, so a JVM exit with I/O in flight does not hang.
 */
public final class AioEngine implements AutoCloseable {
    /** Requested capacity of each engine context by default. */
    public static final int DEFAULT_CAPACITY = 256;
    /** Requests waiting for room in the kernel, per engine thread, before submitters park. */
    public static final int DEFAULT_MAX_PENDING = 65_536;

    static {
        SharedSecrets.setEngineAccess(engine -> engine.core);
    }

    private static final AtomicInteger ENGINES = new AtomicInteger();
    private static volatile AioEngine shared;

    private final EngineCore core;
    /** The process-wide engine: {@link #close()} refuses. */
    private final boolean processWide;
    private final String name;
    private final ObjectName mbeanName;
    /** Whether this engine holds {@link #mbeanName} (a second engine of the same name never did). */
    private volatile boolean registered;

    private AioEngine(Builder builder, boolean processWide) throws IOException {
        NativeAccess.ensureEnabled();
        this.processWide = processWide;
        int id = ENGINES.incrementAndGet();
        this.name = processWide ? "shared" : builder.name != null ? builder.name : "engine-" + id;
        this.mbeanName = PlatformMBeans.engineName(name);
        this.core = new EngineCore(builder.threads, builder.capacity, builder.maxPending, id, builder.blockingThreads,
                builder.maxRetainedBufferBytes);
    }

    /**
     * An engine with one thread and the default capacity.
     *
     * @return the open engine, its thread started
     * @throws AioLimitException      if fs.aio-max-nr cannot hold the context
     * @throws IOException            if io_setup fails otherwise
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioEngine open() throws IOException {
        NativeAccess.ensureEnabled();
        return builder().build();
    }

    /**
     * A builder for an engine with chosen threads and capacities.
     *
     * @return a builder holding the default settings
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static Builder builder() {
        NativeAccess.ensureEnabled();
        return new Builder();
    }

    /**
     * The process-wide default engine, opened on first use with default
     * settings and never closed (its threads are daemons): {@link #close()}
     * on it throws. The channels use it unless given an engine.
     *
     * @return the shared engine
     * @throws UncheckedIOException   if it cannot be opened, for instance when fs.aio-max-nr is used up
     * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
     */
    public static AioEngine shared() {
        NativeAccess.ensureEnabled();
        AioEngine engine = shared;
        if (engine == null) {
            boolean opened = false;
            synchronized (AioEngine.class) {
                engine = shared;
                if (engine == null) {
                    try {
                        shared = engine = new AioEngine(new Builder(), true);
                        opened = true;
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot open panaio's shared AioEngine", e);
                    }
                }
            }
            if (opened) {
                // After publication: JMX's start-up may open files, through panaio when it is the default
                // provider, and must then find the shared engine rather than open a second one.
                try {
                    engine.registerMBean();
                } catch (RuntimeException | LinkageError e) {
                    // The shared engine works without its MXBean (no java.management in an image...).
                }
            }
        }
        return engine;
    }

    /** Settings for {@link AioEngine}. Not thread-safe. */
    public static final class Builder {
        private int threads = 1;
        private int capacity = DEFAULT_CAPACITY;
        private int maxPending = DEFAULT_MAX_PENDING;
        private int blockingThreads = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
        private long maxRetainedBufferBytes = 64L << 20;
        private String name;

        private Builder() {
        }

        /**
         * Engine threads, each with its own context.
         *
         * @param threads 1 (the default) to 64
         * @return this builder
         * @throws IllegalArgumentException if threads is out of range
         */
        public Builder threads(int threads) {
            this.threads = checkRange("threads", threads, 1, 64);
            return this;
        }

        /**
         * Requested capacity of each context (charged to fs.aio-nr); the kernel rounds it up.
         *
         * @param capacity 1 to {@link AioContext#MAX_CAPACITY}
         * @return this builder
         * @throws IllegalArgumentException if capacity is out of range
         */
        public Builder capacity(int capacity) {
            this.capacity = checkRange("capacity", capacity, 1, AioContext.MAX_CAPACITY);
            return this;
        }

        /**
         * Requests each engine thread queues before submitters park.
         *
         * @param maxPending at least 1
         * @return this builder
         * @throws IllegalArgumentException if maxPending is less than 1
         */
        public Builder maxPending(int maxPending) {
            this.maxPending = checkRange("maxPending", maxPending, 1, Integer.MAX_VALUE);
            return this;
        }

        /**
         * Threads that serve buffered reads the page cache cannot answer at once.
         *
         * @param blockingThreads 1 to 1024; the default is twice the processors, at least 4
         * @return this builder
         * @throws IllegalArgumentException if blockingThreads is out of range
         */
        public Builder blockingThreads(int blockingThreads) {
            this.blockingThreads = checkRange("blockingThreads", blockingThreads, 1, 1024);
            return this;
        }

        /**
         * Bytes of idle bounce buffers kept for reuse.
         *
         * @param bytes 0 or more; the default is 64 MiB
         * @return this builder
         * @throws IllegalArgumentException if bytes is negative
         */
        public Builder maxRetainedBufferBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxRetainedBufferBytes must not be negative: " + bytes);
            }
            this.maxRetainedBufferBytes = bytes;
            return this;
        }

        /**
         * Opens the engine and starts its threads.
         *
         * @return the open engine
         * @throws AioLimitException      if fs.aio-max-nr cannot hold the contexts
         * @throws IOException            if io_setup fails otherwise
         * @throws IllegalCallerException if native access is not enabled for panaio, naming the flag
         */
        public AioEngine build() throws IOException {
            AioEngine engine = new AioEngine(this, false);
            try {
                engine.registerMBean();
            } catch (RuntimeException | Error e) { // an Error too: the engine's threads run, and its contexts are open
                try {
                    engine.closeEngine();
                } catch (RuntimeException | Error closing) {
                    e.addSuppressed(closing);
                }
                throw e;
            }
            return engine;
        }

        /**
         * The engine's name in JMX ({@code dev.panaio:type=AioEngine,name=<name>}): unique among open
         * engines; {@code engine-<n>} by default. {@code shared} is the shared engine's.
         *
         * @param name the name, not empty and not {@code shared}
         * @return this builder
         */
        public Builder name(String name) {
            if (name.isEmpty() || name.equals("shared")) {
                throw new IllegalArgumentException("an AioEngine's name must be non-empty and not \"shared\": \""
                        + name + "\"");
            }
            this.name = name;
            return this;
        }

        private static int checkRange(String name, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "%s must be between %d and %d, not %d",
                        name, min, max, value));
            }
            return value;
        }
    }

    /**
     * Reads {@code dst.byteSize()} bytes of {@code file} at {@code position}.
     * The future gets the number of bytes read (0 at or past end of file).
     * Misaligned direct I/O is checked in Java before the kernel sees it: the
     * future fails at once with {@link MisalignedIoException}, an I/O error.
     *
     * <p>{@link AioArena} memory is used in place, holding a use of the arena
     * until the future completes; {@code Arena.global()} memory in place too.
     * Memory of any other arena is read into a pooled bounce buffer and copied
     * back when the read completes (one copy of its size); if the arena was
     * closed meanwhile, the future fails with an {@link IllegalStateException}
     * ("the buffer's arena was closed while the read was in flight") and only
     * panaio's memory was written. A write's bytes are copied in by this call.
     *
     * @param file     the file to read
     * @param dst      native memory the bytes are read into
     * @param position the file offset to read from
     * @return a future completed with the number of bytes read, or failed with the I/O error
     * @throws IllegalArgumentException as {@link AioContext#prepareRead}, at once: for heap memory, a read-only
     *                                  segment or a negative position; and for memory confined to a thread
     *                                  ("Buffer is thread confined"), which the engine thread may not touch
     * @throws IllegalStateException    if the buffer's arena is closed
     */
    public CompletableFuture<Integer> read(AioFile file, MemorySegment dst, long position) {
        return read(file, dst, position, RequestOptions.NONE);
    }

    /**
     * As {@link #read(AioFile, MemorySegment, long)}, with per-request rw
     * flags and an I/O priority, which reach the kernel in the request's iocb
     * ({@code aio_rw_flags}, {@code aio_reqprio}). With {@link RwFlag#NOWAIT}
     * the future fails with an {@link AioException} of errno EAGAIN where the
     * read would block, and EOPNOTSUPP where the filesystem has no NOWAIT.
     *
     * @param file     the file to read
     * @param dst      native memory the bytes are read into
     * @param position the file offset to read from
     * @param options  rw flags and priority for this request
     * @return a future completed with the number of bytes read (0 at or past end of file), or failed with the I/O
     *         error
     * @throws IllegalArgumentException as {@link #read(AioFile, MemorySegment, long)}, and if the options carry an
     *                                  eventfd ({@link RequestOptions#withNotify}): the engine signals its own
     */
    public CompletableFuture<Integer> read(AioFile file, MemorySegment dst, long position, RequestOptions options) {
        checkEngineOptions(options);
        return core.transfer(true, file, dst, position, options);
    }

    /**
     * Writes all of {@code src} to {@code file} at {@code position}; the
     * future gets the bytes written, or fails at once with
     * {@link MisalignedIoException} for misaligned direct I/O. Memory of an
     * arena other than an {@link AioArena} or the global one is copied into a
     * bounce buffer by this call.
     *
     * @param file     the file to write
     * @param src      native memory holding the bytes
     * @param position the file offset to write at
     * @return a future completed with the number of bytes written, or failed with the I/O error
     * @throws IllegalArgumentException as {@link #read}
     * @throws IllegalStateException    if the buffer's arena is closed
     */
    public CompletableFuture<Integer> write(AioFile file, MemorySegment src, long position) {
        return write(file, src, position, RequestOptions.NONE);
    }

    /**
     * As {@link #write(AioFile, MemorySegment, long)}, with per-request rw
     * flags and an I/O priority in the request's iocb. A durable write needs
     * no separate fdatasync: with {@link RwFlag#DSYNC} the future completes
     * only once the data, and the metadata needed to read it, are on stable
     * storage.
     * {@snippet :
     * static final RequestOptions DURABLE = RequestOptions.NONE.withFlags(RwFlag.DSYNC);
     *
     * CompletableFuture<Integer> written = engine.write(journal, record, offset, DURABLE);
     * }
     *
     * @param file     the file to write
     * @param src      native memory holding the bytes
     * @param position the file offset to write at
     * @param options  rw flags and priority for this request
     * @return a future completed with the number of bytes written, or failed with the I/O error
     * @throws IllegalArgumentException as {@link #write(AioFile, MemorySegment, long)}, and if the options carry
     *                                  an eventfd: the engine signals its own
     */
    public CompletableFuture<Integer> write(AioFile file, MemorySegment src, long position, RequestOptions options) {
        checkEngineOptions(options);
        return core.transfer(false, file, src, position, options);
    }

    /**
     * Reads file bytes from {@code position} into {@code dsts}, filling each
     * in order, as one kernel request ({@code IOCB_CMD_PREADV}), without
     * options. The future gets the total number of bytes read: less than the
     * buffers hold at end of file (the later buffers then keep their
     * contents), 0 at or past it.
     *
     * <p>Memory is handled as by {@link #read(AioFile, MemorySegment, long)},
     * for the vector as a whole: when every buffer is {@link AioArena} or
     * {@code Arena.global()} memory, the kernel uses them in place, and each
     * {@code AioArena} is held (its {@code close()} throws) until the future
     * completes; otherwise the request goes through one pooled bounce buffer
     * of the total length, copied back buffer after buffer when the read
     * completes. If an arena was closed meanwhile, the future fails with an
     * {@link IllegalStateException} and only panaio's memory was written.
     * {@snippet :
     * MemorySegment header = arena.allocate(4096, 4096);
     * MemorySegment body = arena.allocate(65536, 4096);
     * int bytes = engine.readVectored(file, new MemorySegment[] {header, body}, 0).join();
     * }
     *
     * @param file     the file to read
     * @param dsts     native memory filled in order; 1 to 1024 segments (the kernel's {@code UIO_MAXIOV}). The
     *                 array is copied: it may be changed once this returns
     * @param position the file offset to read from
     * @return a future completed with the number of bytes read, or failed with the I/O error; on a direct file,
     *         failed at once with {@link MisalignedIoException} when a buffer's address or length, or the
     *         position, breaks the file's alignment
     * @throws IllegalArgumentException for no buffers or more than 1024, a null, heap, read-only or
     *                                  thread-confined segment, a negative position, or a total that overflows
     *                                  or exceeds what the kernel transfers in one call
     * @throws IllegalStateException    if a buffer's arena or the file is closed
     */
    public CompletableFuture<Integer> readVectored(AioFile file, MemorySegment[] dsts, long position) {
        return readVectored(file, dsts, position, RequestOptions.NONE);
    }

    /**
     * As {@link #readVectored(AioFile, MemorySegment[], long)}, with
     * per-request rw flags and an I/O priority in the request's iocb, as
     * {@link #read(AioFile, MemorySegment, long, RequestOptions)} takes them.
     *
     * @param file     the file to read
     * @param dsts     native memory filled in order; 1 to 1024 segments
     * @param position the file offset to read from
     * @param options  rw flags and priority for this request
     * @return a future completed with the number of bytes read, or failed with the I/O error
     * @throws IllegalArgumentException as {@link #readVectored(AioFile, MemorySegment[], long)}, and if the
     *                                  options carry an eventfd: the engine signals its own
     * @throws IllegalStateException    if a buffer's arena or the file is closed
     */
    public CompletableFuture<Integer> readVectored(AioFile file, MemorySegment[] dsts, long position,
                                                RequestOptions options) {
        checkEngineOptions(options);
        return core.vectored(true, file, dsts, position, options);
    }

    /**
     * Writes all of {@code srcs}, in order, to {@code file} from
     * {@code position}, as one kernel request ({@code IOCB_CMD_PWRITEV}),
     * without options. The future gets the total number of bytes written.
     * Memory is handled as by {@link #readVectored(AioFile, MemorySegment[], long)};
     * a bounced write's bytes are copied by this call.
     *
     * @param file     the file to write
     * @param srcs     native memory written in order; 1 to 1024 segments. The array is copied
     * @param position the file offset to write at
     * @return a future completed with the number of bytes written, or failed with the I/O error (at once with
     *         {@link MisalignedIoException} for misaligned direct I/O)
     * @throws IllegalArgumentException as {@link #readVectored(AioFile, MemorySegment[], long)}, read-only
     *                                  segments allowed
     * @throws IllegalStateException    if a buffer's arena or the file is closed
     */
    public CompletableFuture<Integer> writeVectored(AioFile file, MemorySegment[] srcs, long position) {
        return writeVectored(file, srcs, position, RequestOptions.NONE);
    }

    /**
     * As {@link #writeVectored(AioFile, MemorySegment[], long)}, with
     * per-request rw flags and an I/O priority in the request's iocb: with
     * {@link RwFlag#DSYNC}, one durable write of the whole vector.
     *
     * @param file     the file to write
     * @param srcs     native memory written in order; 1 to 1024 segments
     * @param position the file offset to write at
     * @param options  rw flags and priority for this request
     * @return a future completed with the number of bytes written, or failed with the I/O error
     * @throws IllegalArgumentException as {@link #writeVectored(AioFile, MemorySegment[], long)}, and if the
     *                                  options carry an eventfd: the engine signals its own
     * @throws IllegalStateException    if a buffer's arena or the file is closed
     */
    public CompletableFuture<Integer> writeVectored(AioFile file, MemorySegment[] srcs, long position,
                                                 RequestOptions options) {
        checkEngineOptions(options);
        return core.vectored(false, file, srcs, position, options);
    }

    /** The engine completes through its own eventfd, so a caller's cannot be honoured. */
    static void checkEngineOptions(RequestOptions options) {
        if (Objects.requireNonNull(options, "options").notifyEventFd() != null) {
            throw new IllegalArgumentException("the engine signals its own eventfd on completion: options with "
                    + "withNotify cannot be used here (" + options + "); use AioContext for your own eventfd");
        }
    }

    /**
     * Flushes the file's data and metadata to stable storage ({@code IOCB_CMD_FSYNC}).
     *
     * @param file the file to flush
     * @return a future completed with 0, or failed with the I/O error
     * @throws IllegalStateException if the file is closed
     */
    public CompletableFuture<Integer> fsync(AioFile file) {
        return core.sync(Request.Kind.FSYNC, file);
    }

    /**
     * Flushes the file's data, and metadata only as needed to read it ({@code IOCB_CMD_FDSYNC}).
     *
     * @param file the file to flush
     * @return a future completed with 0, or failed with the I/O error
     * @throws IllegalStateException if the file is closed
     */
    public CompletableFuture<Integer> fdatasync(AioFile file) {
        return core.sync(Request.Kind.FDSYNC, file);
    }

    /**
     * Waits for {@code events} (poll(2) bits such as POLLIN = 1) on
     * {@code target}, with {@code IOCB_CMD_POLL}: the future gets the ready
     * events. It stays pending until an event is ready; cancelling the future
     * does not cancel the kernel's poll, closing the engine does.
     *
     * @param target the file or eventfd to poll
     * @param events the poll(2) event bits to wait for
     * @return a future completed with the ready events
     * @throws IllegalArgumentException if events is 0 or wider than 16 bits
     */
    public CompletableFuture<Integer> poll(Pollable target, int events) {
        return core.poll(target, events);
    }

    /** Bounce buffers for misaligned or heap buffers on direct files. */
    AlignedBufferPool bouncePool() {
        return core.bouncePool();
    }

    /**
     * Requests the kernel can hold at once, over all engine threads.
     *
     * @return the sum of the contexts' capacities
     */
    public int capacity() {
        return core.loops().capacity();
    }

    /**
     * Requests queued or in the kernel now: an unsynchronised snapshot for
     * monitoring, which may miss a request on its way from the queue into
     * the kernel.
     *
     * @return the number of requests queued or in flight
     */
    public int outstanding() {
        return core.loops().outstanding();
    }

    /**
     * Whether {@link #close()} has been called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return core.isClosed();
    }

    /**
     * Shuts the engine down: stops accepting requests, fails queued ones,
     * waits for those in the kernel and for the blocking pool's (so that
     * nothing writes into a caller's buffer after this returns), closes the
     * contexts. Idempotent; called from an engine thread (a callback), it
     * starts the shutdown and does not wait for the engine threads, which
     * include its own.
     *
     * @throws UnsupportedOperationException on the {@linkplain #shared() shared engine}, which lives as long as
     *                                       the process: channels opened later rely on it
     */
    @Override
    public void close() {
        if (processWide) {
            throw new UnsupportedOperationException("the shared AioEngine lives as long as the process and cannot "
                    + "be closed: channels opened later use it. Open your own with AioEngine.open() to close it");
        }
        closeEngine();
    }

    private void closeEngine() {
        if (registered) {
            registered = false;
            PlatformMBeans.unregister(mbeanName);
        }
        core.close();
    }

    /**
     * This engine's name.
     *
     * @return the name, as in its JMX ObjectName {@code dev.panaio:type=AioEngine,name=<name>}
     */
    public String name() {
        return name;
    }

    /**
     * What the engine has done since it opened: a snapshot, read without
     * stopping the engine (see {@link AioEngineStats} for what each count
     * means). The counters cost the engine's hot path a plain store per event
     * on its own thread, and an uncontended {@code LongAdder} increment on
     * the channels' threads.
     *
     * @return the counts now
     */
    public AioEngineStats stats() {
        return core.stats();
    }

    private void registerMBean() {
        PlatformMBeans.register(mbeanName, new EngineMXBean(name, core.loops().count(), this::capacity, this::stats));
        registered = true;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "AioEngine[threads=%d, capacity=%d, outstanding=%d%s]",
                core.loops().count(), capacity(), outstanding(), isClosed() ? ", closed" : "");
    }
}
