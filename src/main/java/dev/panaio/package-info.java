/**
 * panaio's API: Linux native AIO for Java over the Foreign Function &amp;
 * Memory API. {@link dev.panaio.AioContext} is one kernel AIO context for a
 * caller with its own event loop, {@link dev.panaio.AioEngine} gives futures
 * to any thread, and {@link dev.panaio.AioFileChannel} and
 * {@link dev.panaio.AioAsynchronousFileChannel} are drop-in JDK channels.
 *
 * <h2 id="file-channel">AioFileChannel in detail</h2>
 * The reference behind {@link dev.panaio.AioFileChannel}'s summary: how its
 * buffers are kept alive, what it does with its one descriptor, how
 * interrupts and close behave, and each difference from the JDK's
 * {@link java.nio.channels.FileChannel}.
 *
 * <h3>Reads and writes</h3>
 * The calling thread parks until its request completes. A virtual thread
 * unmounts meanwhile: no carrier thread is pinned or compensated, so
 * thousands of virtual threads can each have a read in flight.
 * <ul>
 *   <li>With {@link com.sun.nio.file.ExtendedOpenOption#DIRECT}, requests go to an
 *       {@link AioEngine} as kernel AIO. File positions and lengths must be
 *       multiples of the file's {@link AioFileChannel#alignment()}
 *       ({@link MisalignedIoException} otherwise, an {@code IOException} as
 *       the JDK's, thrown before the kernel sees the request). A buffer on
 *       the heap or at a misaligned address is copied through an aligned
 *       bounce buffer, at the cost of one memory copy of the request's size;
 *       open with {@link PanaioOpenOption#STRICT_ALIGNMENT} to reject such
 *       buffers instead.</li>
 *   <li>Without it, a platform thread makes its own {@code pread} or
 *       {@code pwrite} of one buffer, hit or miss, as the JDK's
 *       {@code FileChannel} does: it waits for the disk whoever makes the
 *       call (with DSYNC or SYNC, for the write to reach the disk too). A
 *       virtual thread's read first tries {@code preadv2(RWF_NOWAIT)}, which
 *       the page cache answers at once when it holds the data; otherwise a
 *       pool thread reads, and the virtual thread unmounts meanwhile. A
 *       virtual thread's write is made on a pool thread. A scattering read, a
 *       buffer over an arena's memory and a heap buffer over 128 KiB go the
 *       virtual thread's way on any thread.</li>
 * </ul>
 * <h3>Buffers</h3>
 * The kernel never writes into memory that can be freed
 * before the call returns: {@link AioArena} memory and direct buffers from
 * {@code ByteBuffer.allocateDirect} are used in place (an {@code AioArena}
 * cannot be closed while a request on it is in flight); memory of any other
 * arena is used in place only by a page-cache read or write on the calling
 * thread, which holds the arena's session for the system call, and is
 * otherwise copied through panaio's memory (one copy of the request's size).
 * If another thread closes that arena while a read is in flight, the read
 * throws {@link IllegalStateException} and only panaio's memory was written.
 * A scattering read or gathering write is one request, one {@code PREADV} or
 * {@code PWRITEV} on a direct file and one {@code preadv2} or {@code pwritev2}
 * on a buffered one, over the first 1024 buffers ({@code IOV_MAX}) that have
 * bytes remaining, as the JDK takes them: the rest wait for the next call,
 * and the count says how far it got. The JDK's checks come first (open,
 * readable or writable) even when every buffer is empty. On a direct channel
 * each buffer's remaining length must be a multiple of the alignment, as the
 * JDK requires; when any buffer is on the heap, misaligned, or of an arena
 * whose lifetime panaio does not control, the whole vector goes through one
 * bounce buffer of its total length.
 *
 * <h3>One descriptor</h3>
 * The channel owns exactly one file descriptor, opened once by panaio with
 * every option {@link java.nio.channels.FileChannel#open} accepts: READ, WRITE, APPEND, CREATE,
 * CREATE_NEW, TRUNCATE_EXISTING, DELETE_ON_CLOSE (the file is unlinked right
 * after it is opened, as the JDK does on Linux), SPARSE (ignored), SYNC,
 * DSYNC, {@link java.nio.file.LinkOption#NOFOLLOW_LINKS}, DIRECT, and the
 * {@code posix:permissions} attribute; the JDK's exceptions for the JDK's
 * failures. Everything works on that descriptor:
 * <ul>
 *   <li>The position is kept in Java; in APPEND mode {@link AioFileChannel#position()} is the
 *       size, as the JDK's. Size is {@code statx}, {@link AioFileChannel#truncate} is
 *       {@code ftruncate} with the JDK's rules (it never extends the file),
 *       {@link AioFileChannel#force} is {@code fsync} or {@code fdatasync}.</li>
 *   <li>Transfers read and write through this descriptor, with the JDK's
 *       checks and results; a transfer on a direct channel reads whole aligned
 *       blocks around the range asked for.</li>
 *   <li>{@link AioFileChannel#map} maps through a transient JDK channel opened on
 *       {@code /proc/self/fd/<fd>} (the same file, even renamed or deleted),
 *       closed right after mapping: the mapping outlives it.</li>
 *   <li>Locks are Linux open file description locks ({@code F_OFD_SETLK}) on
 *       the descriptor. A JVM-wide table throws
 *       {@link java.nio.channels.OverlappingFileLockException} for a lock
 *       that overlaps one held or wanted through any panaio channel in this
 *       JVM, as the JDK does for its own channels. Next to JDK channels on the
 *       same file in the same JVM, panaio's locks behave like another
 *       process's: a JDK {@code tryLock} on the range returns null instead of
 *       throwing, and the two lock tables do not know each other. Unlike the
 *       JDK's POSIX locks, panaio's are not dropped when some other
 *       descriptor of the file closes; but closing a panaio channel, like
 *       closing any descriptor, drops the POSIX locks the JDK's channels hold
 *       on that file in this process (the JDK's {@link java.nio.channels.FileLock} javadoc warns
 *       of this). A blocking {@link AioFileChannel#lock} polls the kernel, pausing up to
 *       10 ms between tries.</li>
 * </ul>
 * A channel that becomes unreachable without {@link AioFileChannel#close()} has its locks
 * released and its descriptor closed by a {@link java.lang.ref.Cleaner}, as
 * the JDK's.
 *
 * <h3>Deliberately more permissive than the JDK</h3>
 * Two differences make code that fails on the JDK's channel work, and never
 * make working code fail: the alignment is the filesystem's own
 * ({@code statx(STATX_DIOALIGN)}, often 512 or smaller where the JDK asks
 * for the device's logical block size), and heap or misaligned buffers are
 * bounced where the JDK refuses them.
 *
 * <h3>Interrupts and close</h3>
 * As with the JDK's channels, interrupting a thread blocked in any call on
 * the channel (a read or write, relative or positional, size, truncate,
 * force, a transfer, a blocking lock) closes the channel, and the call throws
 * {@link java.nio.channels.ClosedByInterruptException} (a lock,
 * {@link java.nio.channels.FileLockInterruptionException}); closing the channel from another
 * thread makes it throw {@link java.nio.channels.AsynchronousCloseException}.
 * A transfer whose other channel is closed by another thread throws
 * AsynchronousCloseException and leaves this channel open; an interrupt
 * during a transfer closes both, as the JDK. One difference: a read or write
 * returns only once the kernel has finished with the buffer, because a file
 * read in flight cannot be cancelled (Linux cancels only polls). That wait is
 * bounded by the device's latency.
 *
 * <p>{@code close()} waits, as the JDK's does, for the channel's calls that
 * are already in the kernel: a direct read or write that the engine has
 * passed to {@code io_submit}, a read or write running on the engine's
 * blocking pool, a {@code force}, {@code size} or {@code truncate}. Such a
 * read returns its count (the kernel finished it), as the JDK's does. The wait
 * is not interruptible (nor is the JDK's); the interrupt status is kept. A
 * call whose request still waits in the engine's queue for room in the
 * kernel is not waited for: it throws {@code AsynchronousCloseException}
 * when the engine takes it. An interrupt closes the channel the same way, on
 * the interrupting thread, which therefore waits too.
 *
 * <h3>Differences from the JDK</h3>
 * <ul>
 *   <li>Direct I/O needs the alignment {@code statx(STATX_DIOALIGN)} reports,
 *       often smaller than the filesystem block size the JDK asks for, and
 *       misaligned buffers are bounced (above): more permissive.</li>
 *   <li>A transfer on a direct channel works at any position and count: more
 *       permissive.</li>
 *   <li>{@code open} accepts a path of the default filesystem only
 *       ({@link java.nio.file.ProviderMismatchException} otherwise): the JDK's
 *       {@code FileChannel.open} would open another provider's channel. This is
 *       the one restriction: panaio's I/O needs a Linux file descriptor.</li>
 *   <li>{@code close()} does not wait for a virtual thread's page-cache read
 *       that runs on its own thread (a copy, microseconds long), which the
 *       JDK's close would wait for (a platform thread's own {@code pread} or
 *       {@code pwrite} it waits for, as the JDK's does); and a read into a heap buffer of a direct
 *       channel, bounced through panaio's memory, copies its bytes into that
 *       buffer on the reading thread just after the kernel's completion, which
 *       is what {@code close()} waits for. On an engine thread (a completion
 *       callback) {@code close()} does not wait at all, since the completion
 *       it would wait for may be that thread's own to deliver; blocking calls
 *       are refused there anyway. Every call still gets its JDK result; code
 *       that looks at such a call's buffer as soon as {@code close()} returns
 *       must wait for the call itself.</li>
 * </ul>
 */
package dev.panaio;
