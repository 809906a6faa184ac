package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.PanaioOpenOption;
import dev.panaio.internal.access.SharedSecrets;

import java.io.IOException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * A channel's open options, split into what the file's one descriptor is
 * opened with and what the channel itself acts on.
 *
 * @param fileOptions the options of the descriptor (the JDK's, and DIRECT)
 * @param mode        the permissions of a file the open creates, from the {@code posix:permissions} attribute
 */
public record ChannelOptions(Set<OpenOption> fileOptions, int mode, boolean append, boolean strict,
                             boolean syncWrites, boolean inlineCompletion) {
    /** {@code rw-rw-rw-}, less the umask: what the JDK creates files with. */
    private static final int DEFAULT_MODE = 0666;

    /**
     * Parses a channel's options and initial file attributes with the JDK's
     * rules: a null option or attribute is a NullPointerException, an
     * attribute other than {@code posix:permissions} (or {@code unix:permissions})
     * an UnsupportedOperationException.
     */
    public static ChannelOptions parse(Set<? extends OpenOption> options, FileAttribute<?>... attrs) {
        Objects.requireNonNull(options, "options");
        int mode = toMode(attrs);
        Set<OpenOption> file = new HashSet<>();
        boolean strict = false;
        boolean inline = false;
        for (OpenOption option : options) {
            Objects.requireNonNull(option, "option");
            if (option == PanaioOpenOption.STRICT_ALIGNMENT) {
                strict = true;
            } else if (option == PanaioOpenOption.INLINE_COMPLETION) {
                inline = true;
            } else {
                file.add(option);
            }
        }
        boolean append = options.contains(StandardOpenOption.APPEND);
        boolean sync = options.contains(StandardOpenOption.DSYNC) || options.contains(StandardOpenOption.SYNC);
        return new ChannelOptions(file, mode, append, strict, sync, inline);
    }

    /** Opens the channel's one descriptor. */
    public AioFile open(Path path) throws IOException {
        return SharedSecrets.fileAccess().open(path, fileOptions, mode);
    }

    @SuppressWarnings("unchecked")
    private static int toMode(FileAttribute<?>... attrs) {
        int mode = DEFAULT_MODE;
        if (attrs == null) {
            return mode;
        }
        for (FileAttribute<?> attr : attrs) {
            String name = attr.name();
            if (!name.equals("posix:permissions") && !name.equals("unix:permissions")) {
                throw new UnsupportedOperationException("'" + name + "' not supported as initial attribute");
            }
            mode = 0;
            for (PosixFilePermission permission : (Set<PosixFilePermission>) attr.value()) {
                mode |= switch (permission) {
                    case OWNER_READ -> 0400;
                    case OWNER_WRITE -> 0200;
                    case OWNER_EXECUTE -> 0100;
                    case GROUP_READ -> 040;
                    case GROUP_WRITE -> 020;
                    case GROUP_EXECUTE -> 010;
                    case OTHERS_READ -> 04;
                    case OTHERS_WRITE -> 02;
                    case OTHERS_EXECUTE -> 01;
                };
            }
        }
        return mode;
    }
}
