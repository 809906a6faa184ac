package dev.panaio.internal.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Per thread: native memory for the small calls made on a file while it is
 * opened, sized and closed (the path of {@code open}, a {@code struct statx},
 * errno captures) and on an eventfd (its counter), so that those calls
 * allocate no native memory of their own. It is GC-managed ({@code Arena.ofAuto()}): a thread's is freed when the
 * thread is gone, and the calls are synchronous, so the kernel never keeps an
 * address of it.
 *
 * <p>One thread only, one call at a time: each user fills it, makes its call
 * and reads the answer before anything else on the thread can take it. The
 * descriptor's close, which may run inside another user's {@code release()},
 * has an errno capture of its own.
 */
public final class CallScratch {
    private static final ThreadLocal<CallScratch> SCRATCH = ThreadLocal.withInitial(CallScratch::new);

    /** An errno capture. */
    public final MemorySegment errno;
    /** An errno capture for {@code close(2)} alone. */
    public final MemorySegment closeErrno;
    /** A {@code struct statx}. */
    public final MemorySegment statx;
    /** The empty C string, for {@code statx(fd, "", AT_EMPTY_PATH)}. */
    public final MemorySegment emptyPath;
    /** An eventfd's 8-byte counter, written to it or read from it. */
    public final MemorySegment counter;
    private MemorySegment path;

    private CallScratch() {
        Arena arena = Arena.ofAuto();
        errno = Syscalls.errnoCapture(arena);
        closeErrno = Syscalls.errnoCapture(arena);
        statx = dev.panaio.internal.gen.aio_abi.statx.allocate(arena);
        emptyPath = arena.allocateFrom("");
        counter = arena.allocate(ValueLayout.JAVA_LONG);
        path = arena.allocate(256);
    }

    /** The calling thread's scratch. */
    public static CallScratch get() {
        return SCRATCH.get();
    }

    /** {@code name} as a NUL-terminated UTF-8 string in this scratch, valid until its next use. */
    public MemorySegment path(String name) {
        long most = 3L * name.length() + 1; // UTF-8 takes at most 3 bytes per UTF-16 unit
        if (path.byteSize() < most) {
            path = Arena.ofAuto().allocate(Math.max(most, 2 * path.byteSize()));
        }
        path.setString(0, name);
        return path;
    }
}
