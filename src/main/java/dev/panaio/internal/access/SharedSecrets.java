package dev.panaio.internal.access;

import dev.panaio.AioContext;
import dev.panaio.AioEngine;
import dev.panaio.AioException;
import dev.panaio.AioFile;
import dev.panaio.EventFd;
import dev.panaio.IoPriority;
import dev.panaio.RequestOptions;
import dev.panaio.internal.context.GuardedContext;
import dev.panaio.internal.context.IocbWriter.Abi;
import dev.panaio.internal.memory.AlignedBufferPool;
import dev.panaio.internal.engine.CompletionSink;
import dev.panaio.internal.engine.EngineCore;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.sys.FileDescriptorHandle;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ExecutorService;

/**
 * The one bridge from panaio's internal packages to members of its API types
 * that are not public API, in the manner of the JDK's
 * {@code jdk.internal.access.SharedSecrets}.
 *
 * <p>Each API type that has such members registers an accessor from its
 * static initialiser. A getter first makes sure that type is initialised
 * ({@code Class.forName} with initialisation), so
 * an accessor is never asked for before it is registered. The accessors are
 * set once and read without locking: class initialisation orders the two.
 *
 * <p>Thread-safe.
 */
public final class SharedSecrets {
    private SharedSecrets() {
    }

    /** What internal code needs of {@link AioFile}. */
    public interface FileAccess {
        /** The file's descriptor, with its use count. */
        FileDescriptorHandle handle(AioFile file);

        /**
         * Opens a file as {@code AioFile.open} does, creating it with permissions {@code mode}: the channels'
         * entry point, which takes the JDK's file attributes.
         */
        AioFile open(java.nio.file.Path path, java.util.Set<? extends java.nio.file.OpenOption> options, int mode)
                throws java.io.IOException;

        /** Whether io_submit refused RWF_NOWAIT on the file once (EOPNOTSUPP: tmpfs). */
        boolean refusesNowait(AioFile file);

        /** Remembers that io_submit refused RWF_NOWAIT on the file. */
        void refuseNowait(AioFile file);
    }

    /** What internal code needs of {@link EventFd}. */
    public interface EventFdAccess {
        /** The eventfd's descriptor, with its use count. */
        FileDescriptorHandle handle(EventFd eventFd);

        /** Reads the counter into the caller's 8-byte {@code value}, with the caller's errno capture. */
        long read(EventFd eventFd, MemorySegment value, MemorySegment errno) throws java.io.IOException;
    }

    /** What internal code needs of {@link RequestOptions} and the values in it. */
    public interface OptionsAccess {
        /** The kernel's {@code aio_rw_flags} value. */
        int rwFlags(RequestOptions options);

        /** The priority, or null for the default. */
        IoPriority priority(RequestOptions options);

        /** The value for {@code aio_reqprio}. */
        short reqprio(IoPriority priority);

        /** The eventfd to signal on completion, or null. */
        EventFd notifyEventFd(RequestOptions options);
    }

    /** What the engine needs of {@link AioContext}: its parts behind the API. */
    @FunctionalInterface
    public interface ContextAccess {
        /** The context's parts, each call made under its owner guard. */
        GuardedContext parts(AioContext context);

        /** The context's io_submit counts, for the engine's statistics. */
        default dev.panaio.internal.stats.SubmitCounters submitCounters(AioContext context) {
            return parts(context).submitCounters();
        }

        /**
         * Lets go of the use of the last file the context submitted for, so
         * that closing that file closes its descriptor at once: called by an
         * engine thread before it sleeps. A no-op while requests are prepared.
         */
        default void releasePinnedFile(AioContext context) {
            parts(context).releasePinnedFile();
        }

        /**
         * Prepares a read or write of memory whose lifetime the caller already
         * guards until the completion (a use of a panaio arena, a bounce buffer,
         * or GC-managed memory kept reachable): the kernel gets it in place, with
         * no classification and no second use.
         */
        default void prepareHandedOver(AioContext context, boolean read, AioFile file, MemorySegment memory,
                                       long position, long tag, RequestOptions options)
                throws dev.panaio.MisalignedIoException {
            parts(context).prepareHandedOver(read, file, memory, position, tag, options);
        }

        /**
         * As {@link #prepareHandedOver}, for one vectored read or write of
         * {@code memory} (the caller's own array, not changed meanwhile):
         * one {@code IOCB_CMD_PREADV} or {@code PWRITEV}.
         */
        default void prepareHandedOverVectored(AioContext context, boolean read, AioFile file, MemorySegment[] memory,
                                               long position, long tag, RequestOptions options)
                throws dev.panaio.MisalignedIoException {
            parts(context).prepareVectored(read ? Abi.CMD_PREADV : Abi.CMD_PWRITEV, file, memory, true, position,
                    tag, options);
        }
    }

    /** What the channels need of {@link AioEngine}: its implementation behind the API. */
    @FunctionalInterface
    public interface EngineAccess {
        /** The engine's implementation. */
        EngineCore core(AioEngine engine);

        /** Hands a request to an engine thread; its sink is finished or failed exactly once. */
        default void submit(AioEngine engine, Request request, CompletionSink sink) {
            core(engine).submit(request, sink);
        }

        /** Bounce buffers for misaligned or heap buffers on direct files. */
        default AlignedBufferPool bouncePool(AioEngine engine) {
            return core(engine).bouncePool();
        }

        /** Platform threads for buffered I/O that would block. */
        default ExecutorService blockingPool(AioEngine engine) {
            return core(engine).blockingPool();
        }

        /** Whether the calling thread is one of the engine's threads. */
        default boolean isEngineThread(AioEngine engine) {
            return core(engine).isEngineThread();
        }

        /** The engine's counters that any thread bumps (page-cache hits, pool runs, bounce copies...). */
        default dev.panaio.internal.stats.SharedCounters sharedCounters(AioEngine engine) {
            return core(engine).sharedCounters();
        }
    }


    /** Constructors of the API's exceptions, which are not public API. */
    public interface ExceptionAccess {
        /** {@code new AioException(message, call, errno)}. */
        AioException aioException(String message, String call, int errno);

        /** {@code new AioLimitException(message, errno, aioNr, aioMaxNr)}: EAGAIN or ENOMEM from io_setup. */
        AioException aioLimitException(String message, int errno, long aioNr, long aioMaxNr);

        /** {@code new SubmitException(...)}, for a batch io_submit rejected. */
        dev.panaio.SubmitException submitException(String message, int errno, int accepted, long failedTag,
                                                   long[] unsubmittedTags);

        /** {@code new MisalignedIoException(message, requiredAlignment)}. */
        dev.panaio.MisalignedIoException misalignedIoException(String message, long requiredAlignment);
    }

    private static FileAccess fileAccess;
    private static ContextAccess contextAccess;
    private static EventFdAccess eventFdAccess;
    private static OptionsAccess optionsAccess;
    private static EngineAccess engineAccess;
    private static ExceptionAccess exceptionAccess;

    /** Called once, from {@link AioContext}'s static initialiser. */
    public static void setContextAccess(ContextAccess access) {
        contextAccess = access;
    }

    /** AioContext's accessor, initialising AioContext first if need be. */
    public static ContextAccess contextAccess() {
        ContextAccess access = contextAccess;
        return access != null ? access : initialised(AioContext.class, () -> contextAccess);
    }

    /** Called once, from {@link AioFile}'s static initialiser. */
    public static void setFileAccess(FileAccess access) {
        fileAccess = access;
    }

    /** AioFile's accessor, initialising AioFile first if need be. */
    public static FileAccess fileAccess() {
        FileAccess access = fileAccess;
        return access != null ? access : initialised(AioFile.class, () -> fileAccess);
    }

    /** Called once, from {@link EventFd}'s static initialiser. */
    public static void setEventFdAccess(EventFdAccess access) {
        eventFdAccess = access;
    }

    /** EventFd's accessor, initialising EventFd first if need be. */
    public static EventFdAccess eventFdAccess() {
        EventFdAccess access = eventFdAccess;
        return access != null ? access : initialised(EventFd.class, () -> eventFdAccess);
    }

    /** Called once, from {@link RequestOptions}'s static initialiser. */
    public static void setOptionsAccess(OptionsAccess access) {
        optionsAccess = access;
    }

    /** RequestOptions's accessor, initialising RequestOptions first if need be. */
    public static OptionsAccess optionsAccess() {
        OptionsAccess access = optionsAccess;
        return access != null ? access : initialised(RequestOptions.class, () -> optionsAccess);
    }

    /** Called once, from {@link AioEngine}'s static initialiser. */
    public static void setEngineAccess(EngineAccess access) {
        engineAccess = access;
    }

    /** AioEngine's accessor, initialising AioEngine first if need be. */
    public static EngineAccess engineAccess() {
        EngineAccess access = engineAccess;
        return access != null ? access : initialised(AioEngine.class, () -> engineAccess);
    }

    /** Called once, from {@link AioException}'s static initialiser. */
    public static void setExceptionAccess(ExceptionAccess access) {
        exceptionAccess = access;
    }

    /** AioException's accessor, initialising AioException first if need be. */
    public static ExceptionAccess exceptionAccess() {
        ExceptionAccess access = exceptionAccess;
        return access != null ? access : initialised(AioException.class, () -> exceptionAccess);
    }

    /** Runs {@code owner}'s static initialiser, which registers the accessor, then returns it. */
    private static <T> T initialised(Class<?> owner, java.util.function.Supplier<T> accessor) {
        try {
            Class.forName(owner.getName(), true, owner.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(owner.getName() + " is part of panaio", e);
        }
        T access = accessor.get();
        if (access == null) {
            throw new AssertionError(owner.getName() + " registered no accessor in its static initialiser");
        }
        return access;
    }
}
