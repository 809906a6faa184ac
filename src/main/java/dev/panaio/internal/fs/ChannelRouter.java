package dev.panaio.internal.fs;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioAsynchronousFileChannel;
import dev.panaio.AioFileChannel;
import dev.panaio.PanaioOpenOption;
import dev.panaio.internal.sys.NativeAccess;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.spi.FileSystemProvider;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Decides, for each channel a wrapping provider is asked to open, whether
 * panaio's channel opens it or the wrapped provider does, and opens it.
 *
 * <p>panaio opens a file when all of these hold; otherwise the wrapped
 * provider does, as if panaio were not installed:
 * <ul>
 *   <li>every option is one panaio's channels take ({@link #PANAIO_OPTIONS}), not
 *       another provider's option;</li>
 *   <li>the path is a regular file, or nothing yet (to be created): a directory,
 *       FIFO, device or socket keeps the JDK's semantics (a FIFO has no position,
 *       and Lucene opens directories to fsync them);</li>
 *   <li>this thread is not already inside a panaio open: whatever panaio reads
 *       while opening (the mount table, a sysctl) goes to the wrapped provider,
 *       so an open never recurses into itself;</li>
 *   <li>native access is enabled for panaio's module. When it is not, a provider
 *       made with {@code fallBack} warns once and opens every file with the
 *       wrapped provider; otherwise the open throws panaio's
 *       {@code IllegalCallerException} naming the flag, before anything native
 *       is touched.</li>
 * </ul>
 * The paths given are already unwrapped (the wrapped provider's own), so that
 * panaio's channels, which open their descriptor through the kernel, never
 * reach this provider again.
 *
 * <p>Thread-safe.
 */
public final class ChannelRouter {
    /** The open options panaio's channels take. */
    public static final Set<OpenOption> PANAIO_OPTIONS = Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE,
            StandardOpenOption.APPEND, StandardOpenOption.CREATE, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SPARSE, StandardOpenOption.DSYNC,
            StandardOpenOption.SYNC, StandardOpenOption.DELETE_ON_CLOSE, LinkOption.NOFOLLOW_LINKS,
            ExtendedOpenOption.DIRECT, PanaioOpenOption.STRICT_ALIGNMENT, PanaioOpenOption.INLINE_COMPLETION);

    /** Set while this thread is inside a panaio open; nested opens go to the wrapped provider. */
    private static final ThreadLocal<Boolean> OPENING = new ThreadLocal<>();

    private static final Module MODULE = ChannelRouter.class.getModule();
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private final FileSystemProvider wrapped;
    private final boolean fallBack;

    /**
     * @param wrapped  the provider that opens what panaio does not
     * @param fallBack whether to open with {@code wrapped}, after a warning, when native access is not enabled
     */
    public ChannelRouter(FileSystemProvider wrapped, boolean fallBack) {
        this.wrapped = wrapped;
        this.fallBack = fallBack;
    }

    /** A panaio {@link AioFileChannel}, or the wrapped provider's channel (see the class comment). */
    public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        if (!opensWithPanaio(path, options)) {
            return wrapped.newFileChannel(path, options, attrs);
        }
        OPENING.set(Boolean.TRUE);
        try {
            return AioFileChannel.open(path, options, attrs);
        } finally {
            OPENING.remove();
        }
    }

    /** A panaio {@link AioAsynchronousFileChannel}, or the wrapped provider's channel (see the class comment). */
    public AsynchronousFileChannel newAsynchronousFileChannel(Path path, Set<? extends OpenOption> options,
                                                              ExecutorService executor, FileAttribute<?>... attrs)
            throws IOException {
        if (!opensWithPanaio(path, options)) {
            return wrapped.newAsynchronousFileChannel(path, options, executor, attrs);
        }
        OPENING.set(Boolean.TRUE);
        try {
            return AioAsynchronousFileChannel.open(path, options, executor, attrs);
        } finally {
            OPENING.remove();
        }
    }

    private boolean opensWithPanaio(Path path, Set<? extends OpenOption> options) {
        if (OPENING.get() != null || !PANAIO_OPTIONS.containsAll(options)) {
            return false;
        }
        if (!MODULE.isNativeAccessEnabled()) {
            if (!fallBack) {
                NativeAccess.ensureEnabled(); // throws, naming the flag, before the shared engine is made
            }
            warnOnce();
            return false;
        }
        BasicFileAttributes attributes;
        try {
            attributes = wrapped.readAttributesIfExists(path, BasicFileAttributes.class);
        } catch (IOException e) {
            return false; // the wrapped provider's open reports it, as without panaio
        }
        return attributes == null || attributes.isRegularFile();
    }

    private static void warnOnce() {
        if (WARNED.compareAndSet(false, true)) {
            String flag = MODULE.isNamed() ? MODULE.getName() : "ALL-UNNAMED";
            System.getLogger("dev.panaio.AioFileSystemProvider").log(Level.WARNING,
                    "panaio's file system provider is installed, but native access is not enabled for " + MODULE
                            + ": files open with the JDK's channels instead of panaio's. Run java with "
                            + "--enable-native-access=" + flag + " to use panaio.");
        }
    }
}
