package dev.panaio.internal.context;

import dev.panaio.internal.sys.Syscalls;

import java.lang.foreign.MemorySegment;

/**
 * The system calls a context makes on its kernel context once it exists:
 * io_submit, io_getevents and io_destroy, with {@link Syscalls}' convention
 * (a result, or {@code -errno}).
 *
 * <p>In production this is always {@link #KERNEL}. It is an interface only so
 * that tests in this package can make the kernel answer what it cannot be
 * made to answer on demand (a partial io_submit, EAGAIN with requests in
 * flight, a corrupt completion) and observe the order of teardown. The
 * replacement is read once, when a context is opened ({@link #forNewContext()}),
 * and kept in final fields; the setter is package-private, in a package the
 * module does not export, so nothing outside panaio's own tests can reach it.
 * In production every call site sees one receiver class, so C2 inlines the
 * call behind one class check ({@code -XX:+PrintInlining} shows
 * {@code ContextCalls$Kernel::ioSubmit inline (hot)}, its type profile all
 * {@code Kernel}): a field load and a compare beside a system call.
 *
 * <p>Thread-safe: implementations hold no state of their own in production.
 */
public interface ContextCalls {
    /** {@code io_submit(ctx, nr, iocbpp)}: the number of iocbs accepted, from the first, or {@code -errno}. */
    long ioSubmit(MemorySegment errno, long ctx, long nr, MemorySegment iocbpp);

    /** {@code io_getevents(ctx, min_nr, nr, events, timeout)}: events written to {@code events}, or {@code -errno}. */
    long ioGetevents(MemorySegment errno, long ctx, long minNr, long nr, MemorySegment events,
                     MemorySegment timeout);

    /** {@code io_destroy(ctx)}: waits for the context's in-flight I/O, then unmaps its ring. */
    long ioDestroy(MemorySegment errno, long ctx);

    /** The kernel's own calls. */
    ContextCalls KERNEL = new Kernel();

    /** The calls a context opened now makes: {@link #KERNEL}, unless a test of this package replaced them. */
    static ContextCalls forNewContext() {
        ContextCalls replaced = ContextCallsTestHook.replacement;
        return replaced == null ? KERNEL : replaced;
    }

    /** Straight to {@link Syscalls}. */
    final class Kernel implements ContextCalls {
        private Kernel() {
        }

        @Override
        public long ioSubmit(MemorySegment errno, long ctx, long nr, MemorySegment iocbpp) {
            return Syscalls.io_submit(errno, ctx, nr, iocbpp);
        }

        @Override
        public long ioGetevents(MemorySegment errno, long ctx, long minNr, long nr, MemorySegment events,
                                MemorySegment timeout) {
            return Syscalls.io_getevents(errno, ctx, minNr, nr, events, timeout);
        }

        @Override
        public long ioDestroy(MemorySegment errno, long ctx) {
            return Syscalls.io_destroy(errno, ctx);
        }
    }
}
