package dev.panaio;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.channels.ClosedChannelException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * Bad input to AioFile, EventFd, AioArena, AioFileSystemProvider, and the values RequestOptions, IoPriority and DirectAlignment: the cases of {@link BadInputTable}'s
 * table for this API surface, each checked as {@link BadInputTable#check} says.
 */
class BadInputResourceTest extends BadInputTable {
    static final List<Case> CASES = new ArrayList<>();

    private static void add(String name, Class<? extends Throwable> type, String fragment, Call call) {
        CASES.add(new Case(name, type, fragment, call));
    }

    static List<Case> cases() {
        return CASES;
    }

    static {
        // ---- AioFile
        add("AioFile.open(Path,OpenOption[]): null path", NullPointerException.class, "path",
                x -> AioFile.open(null, READ));
        add("AioFile.open(Path,OpenOption[]): null option", NullPointerException.class, "option",
                x -> AioFile.open(x.data, READ, null));
        add("AioFile.open(Path,OpenOption[]): an option of another provider", UnsupportedOperationException.class,
                "FOREIGN not supported", x -> AioFile.open(x.data, new OpenOption() {
                    @Override
                    public String toString() {
                        return "FOREIGN";
                    }
                }));
        add("AioFile.open(Path,OpenOption[]): APPEND + TRUNCATE_EXISTING", IllegalArgumentException.class,
                "APPEND + TRUNCATE_EXISTING", x -> AioFile.open(x.data, APPEND, TRUNCATE_EXISTING));
        add("AioFile.open(Path,OpenOption[]): READ + APPEND", IllegalArgumentException.class, "READ + APPEND",
                x -> AioFile.open(x.data, READ, APPEND));
        add("AioFile.open(Path,OpenOption[]): missing file", NoSuchFileException.class, "missing",
                x -> AioFile.open(x.data.resolveSibling("missing"), READ));
        add("AioFile.open(Path,OpenOption[]): a directory for writing", FileSystemException.class, "EISDIR",
                x -> AioFile.open(x.data.getParent(), WRITE));
        add("AioFile.truncate(long): -1", IllegalArgumentException.class, "size must not be negative: -1",
                x -> { x.direct.truncate(-1); return null; });
        add("AioFile.truncate(long): beyond the largest file", AioException.class, "EFBIG",
                x -> { x.writeOnly.truncate(Long.MAX_VALUE); return null; });
        add("AioFile.truncate(long): file opened read-only", AioException.class, "ftruncate",
                x -> { x.readOnly.truncate(0); return null; });
        add("AioFile.truncate(long): closed file", ClosedChannelException.class, null,
                x -> { x.closedFile.truncate(0); return null; });
        add("AioFile.size(): closed file", ClosedChannelException.class, null, x -> x.closedFile.size());
        add("AioFile.alignment(): closed file", ClosedChannelException.class, null, x -> x.closedFile.alignment());

        // ---- EventFd
        add("EventFd.write(long): 0", IllegalArgumentException.class, "increment must be positive: 0",
                x -> { x.eventFd.write(0); return null; });
        add("EventFd.write(long): Long.MIN_VALUE", IllegalArgumentException.class, "must be positive",
                x -> { x.eventFd.write(Long.MIN_VALUE); return null; });
        add("EventFd.write(long): closed", ClosedChannelException.class, null,
                x -> { x.closedEventFd.write(1); return null; });
        add("EventFd.read(): closed", ClosedChannelException.class, null, x -> x.closedEventFd.read());

        // ---- AioArena
        add("AioArena.allocate(long,long): size -1", IllegalArgumentException.class, null,
                x -> x.aioArena.allocate(-1, 8));
        add("AioArena.allocate(long,long): alignment 3", IllegalArgumentException.class, null,
                x -> x.aioArena.allocate(8, 3));
        add("AioArena.allocate(long,long): closed arena", IllegalStateException.class, null,
                x -> x.closedAioArena.allocate(8, 8));

        // ---- AioFileSystemProvider
        add("AioFileSystemProvider.wrap(Path): null", NullPointerException.class, null,
                x -> AioFileSystemProvider.wrap(null));
        add("AioFileSystemProvider(FileSystemProvider): null", NullPointerException.class, null,
                x -> new AioFileSystemProvider(null));

        // ---- RequestOptions, IoPriority, DirectAlignment
        add("RequestOptions.withFlags(RwFlag[]): a null flag", NullPointerException.class, "flag",
                x -> RequestOptions.NONE.withFlags(RwFlag.SYNC, null));
        add("RequestOptions.withFlags(RwFlag[]): null array", NullPointerException.class, null,
                x -> RequestOptions.NONE.withFlags((RwFlag[]) null));
        add("RequestOptions.withPriority(IoPriority): null", NullPointerException.class, "priority",
                x -> RequestOptions.NONE.withPriority(null));
        add("RequestOptions.withNotify(EventFd): null", NullPointerException.class, "eventFd",
                x -> RequestOptions.NONE.withNotify(null));
        add("RequestOptions.has(RwFlag): null", NullPointerException.class, "flag",
                x -> RequestOptions.NONE.has(null));
        add("IoPriority(IoClass,int): null class", NullPointerException.class, "ioClass",
                x -> new IoPriority(null, 0));
        add("IoPriority(IoClass,int): level -1", IllegalArgumentException.class, "must be 0 to 7, not -1",
                x -> new IoPriority(IoPriority.IoClass.BEST_EFFORT, -1));
        add("IoPriority(IoClass,int): level 8", IllegalArgumentException.class, "not 8",
                x -> new IoPriority(IoPriority.IoClass.IDLE, 8));
        add("IoPriority(IoClass,int): level Integer.MIN_VALUE", IllegalArgumentException.class, "must be 0 to 7",
                x -> new IoPriority(IoPriority.IoClass.REALTIME, Integer.MIN_VALUE));
        String alignment = "DirectAlignment(long,long,Source)";
        long[][] badAlignments = {{0, 512}, {512, 0}, {-512, 512}, {3, 512}, {512, 513}, {Long.MIN_VALUE, 512},
                {512, Long.MIN_VALUE}};
        for (long[] bad : badAlignments) {
            add(alignment + ": " + bad[0] + " / " + bad[1], IllegalArgumentException.class,
                    "positive powers of two: memory=" + bad[0] + ", offset=" + bad[1],
                    x -> new DirectAlignment(bad[0], bad[1], DirectAlignment.Source.STATX));
        }
        add(alignment + ": null source", NullPointerException.class, "source",
                x -> new DirectAlignment(512, 512, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldRejectWithATypedExceptionAndAMessageToActOn(Case c) throws Exception {
        check(c);
    }
}
