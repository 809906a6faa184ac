package dev.panaio.internal.channel;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.statx;
import dev.panaio.internal.sys.CallScratch;
import dev.panaio.internal.sys.ErrnoExceptions;
import dev.panaio.internal.sys.FileDescriptorHandle;
import dev.panaio.internal.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One file's question before a buffered read is tried inline: does the page
 * cache hold every page of the range ({@code cachestat(2)}, which reads
 * nothing)? Asked only after a read of the file missed, for
 * {@link #ASK_AFTER_MISS} reads, and only of a regular file; while the
 * answers keep saying no, only by one read in
 * {@link #ASK_ONE_IN_WHILE_MISSING}. Pages past the
 * end of the file count as held (a read never asks for them), the size taken
 * with statx when a range reaches past the size last seen. One per
 * {@link FileIo}.
 *
 * <p>Any thread may call it: its per-file state is a hint, and its native
 * scratch is per thread.
 */
final class PageCacheQuestion {
    private final FileDescriptorHandle handle;

    /**
     * How many more buffered reads ask the page cache (cachestat) before their
     * inline attempt: set after a miss, counted down by reads the cache holds.
     * At 0 the file's reads hit, and the NOWAIT read goes alone, saving a
     * system call per read. A new file starts asking: its pages are unknown.
     * A hint: racing updates only move when it is asked.
     */
    private int askCacheFor = ASK_AFTER_MISS;

    PageCacheQuestion(FileDescriptorHandle handle) {
        this.handle = handle;
    }

    /**
     * Per thread: native scratch for {@link #pageCacheHolds}, a
     * {@code struct cachestat_range} (two u64) and a {@code struct cachestat}
     * (five u64), with its own errno capture.
     */
    private static final class CacheQuery {
        final MemorySegment range;
        final MemorySegment stat;
        final MemorySegment errno;

        CacheQuery() {
            Arena arena = Arena.ofAuto();
            range = arena.allocate(16, 8);
            stat = arena.allocate(40, 8);
            errno = Syscalls.errnoCapture(arena);
        }
    }

    private static final ThreadLocal<CacheQuery> CACHE_QUERY = ThreadLocal.withInitial(CacheQuery::new);
    private static final long PAGE_SIZE = Syscalls.getpagesize();
    /** Set once cachestat is found missing (ENOSYS, before Linux 6.5) or forbidden (EPERM, a seccomp filter). */
    private static volatile boolean cachestatUnavailable;

    /** Reads asked about (cachestat) after a file's read missed the page cache, unless one misses again. */
    static final int ASK_AFTER_MISS = 256;

    /**
     * Whether a buffered read of the range should be tried inline. While the
     * file's reads hit, yes, with no question asked (a miss then costs the
     * caller one readahead, and turns the questions on); after a miss, only if
     * cachestat says the page cache holds the whole range; once it has said
     * no {@link #UNHELD_BEFORE_SKIPPING} times in a row, no without asking,
     * except for one read in {@link #ASK_ONE_IN_WHILE_MISSING}.
     */
    boolean worthReadingInline(long position, long length) {
        if (askCacheFor <= 0 || !hasPageCache()) {
            return true;
        }
        if (unheldInARow >= UNHELD_BEFORE_SKIPPING && ++skippedWhileMissing % ASK_ONE_IN_WHILE_MISSING != 0) {
            return false; // the file's reads keep missing: to the pool, with no system call on the caller
        }
        int holds = pageCacheHolds(position, length);
        if (holds == 0) {
            if (unheldInARow < UNHELD_BEFORE_SKIPPING) {
                unheldInARow++;
            }
            return false;
        }
        unheldInARow = 0;
        askCacheFor--;
        return true;
    }

    /**
     * Answers of cachestat in a row that the page cache lacks the range, up
     * to {@link #UNHELD_BEFORE_SKIPPING}: from there on only one read in
     * {@link #ASK_ONE_IN_WHILE_MISSING} asks, and the others go to the pool
     * without a question, until an answer says the cache holds a range. A
     * file read where the cache cannot keep it (larger than memory, or
     * evicted as fast as read) then costs its callers no system call per
     * read; a read the cache could have answered meanwhile is made by the
     * pool instead (from the cache, at the cost of a hand-off). A hint, as
     * {@link #askCacheFor}.
     */
    private int unheldInARow;
    /** Reads not asked about while the file's reads keep missing, counted to pick the one in N that asks. */
    private int skippedWhileMissing;
    /** Questions asked (cachestat calls): for tests; a hint under concurrent use. */
    private int asked;

    /** Answers in a row that the cache lacks a range, before reads of the file stop asking but one in N. */
    static final int UNHELD_BEFORE_SKIPPING = 8;
    /** While a file's reads keep missing, one read in this many asks the page cache again. */
    static final int ASK_ONE_IN_WHILE_MISSING = 16;

    /** How many times this file's page cache was asked (cachestat): exact when one thread reads. */
    int questionsAsked() {
        return asked;
    }

    /** {@code STATX_TYPE}, {@code STATX_SIZE}, {@code S_IFMT} and {@code S_IFREG}, from {@code <linux/stat.h>}. */
    private static final int STATX_TYPE = 0x1;
    private static final int STATX_SIZE = 0x200;
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;

    /** 1 a regular file, -1 not (a device, procfs, a pipe), 0 not yet asked. */
    private int regularFile;

    /**
     * Whether cachestat's answer means anything for this file: only a regular
     * file's pages are counted (it answers 0 cached pages for /dev/zero or a
     * procfs file, whose reads are then tried inline as before). Asked once,
     * with statx, on the first buffered read that would ask cachestat.
     */
    private boolean hasPageCache() {
        int known = regularFile;
        if (known == 0) {
            regularFile = known = isRegularFile() ? 1 : -1;
        }
        return known > 0;
    }

    private boolean isRegularFile() {
        int mode = statx(STATX_TYPE | STATX_SIZE);
        return mode == -1 || (mode & S_IFMT) == S_IFREG;
    }

    /**
     * The file's size when a statx of it last answered, or -1: a hint, for
     * telling the pages past the end of the file (which cachestat counts as
     * not cached, and a read never asks for) from pages a read would miss.
     */
    private volatile long sizeHint = -1;

    /**
     * statx of the descriptor for {@code mask}, updating {@link #sizeHint}
     * when the size was asked for: its {@code stx_mode}, or -1 when the
     * channel was closed meanwhile (the read reports it) or statx failed.
     */
    private int statx(int mask) {
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            return -1;
        }
        try {
            CallScratch scratch = CallScratch.get();
            MemorySegment buf = scratch.statx;
            long ret = Syscalls.statx(scratch.errno, fd, scratch.emptyPath, aio_abi_h.AT_EMPTY_PATH(), mask, buf);
            if (ret < 0) {
                return -1;
            }
            if ((mask & STATX_SIZE) != 0 && (statx.stx_mask(buf) & STATX_SIZE) != 0) {
                sizeHint = statx.stx_size(buf);
            }
            return statx.stx_mode(buf) & 0xffff;
        } finally {
            handle.release();
        }
    }

    /**
     * Whether the page cache holds every page of the range, asked with
     * cachestat, which starts no read: 1 yes, 0 no, -1 unknown (no cachestat
     * here, or the channel was closed meanwhile, which the read then reports).
     */
    private int pageCacheHolds(long position, long length) {
        if (cachestatUnavailable) {
            return -1;
        }
        int fd;
        try {
            fd = handle.acquire();
        } catch (IllegalStateException closed) {
            return -1;
        }
        long result;
        asked++;
        CacheQuery query = CACHE_QUERY.get();
        try {
            query.range.set(ValueLayout.JAVA_LONG, 0, position);
            query.range.set(ValueLayout.JAVA_LONG, 8, length);
            result = Syscalls.cachestat(query.errno, fd, query.range, query.stat);
        } finally {
            handle.release();
        }
        if (result < 0) {
            if (result == -ErrnoExceptions.ENOSYS || result == -ErrnoExceptions.EPERM) {
                cachestatUnavailable = true;
            }
            return -1;
        }
        long cached = query.stat.get(ValueLayout.JAVA_LONG, 0);
        if (cached >= pages(position, length)) {
            return 1;
        }
        if (position + length > sizeHint) {
            // Maybe past the end of the file, whose pages no read asks for: count only those before it, now.
            statx(STATX_SIZE);
            long size = sizeHint;
            if (size >= 0 && position + length > size) {
                // At or past the end, the kernel answers 0 before it looks for a page: nothing to miss.
                return position >= size || cached >= pages(position, size - position) ? 1 : 0;
            }
        }
        return 0;
    }

    /**
     * Whether the file ends at or before {@code offset}, asked with statx now:
     * a NOWAIT read that stopped short there met the end of the file, not a
     * page missing from the cache. False when unknown.
     */
    boolean endsAt(long offset) {
        statx(STATX_SIZE);
        long size = sizeHint;
        return size >= 0 && offset >= size;
    }

    /** The pages a range of the file touches. */
    private static long pages(long position, long length) {
        return (position + length - 1) / PAGE_SIZE - position / PAGE_SIZE + 1;
    }

    /** A read of the file missed the page cache: the next {@link #ASK_AFTER_MISS} reads ask first. */
    void readMissed() {
        askCacheFor = ASK_AFTER_MISS;
    }
}
