package dev.panaio;

import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestOptionsTest {
    private static final int SEED = 13;

    @TempDir
    Path dir;

    @Test
    void shouldHaveNothingSetInNone() {
        assertThat(RequestOptions.NONE.rwFlags()).isZero();
        assertThat(RequestOptions.NONE.priority()).isNull();
        assertThat(RequestOptions.NONE.notifyEventFd()).isNull();
        for (RwFlag flag : RwFlag.values()) {
            assertThat(RequestOptions.NONE.has(flag)).as("%s", flag).isFalse();
        }
        assertThat(RequestOptions.NONE).hasToString("RequestOptions[flags=, priority=null, notify=null]");
    }

    @Test
    void shouldAddFlagsToACopyAndLeaveTheOriginalAlone() {
        RequestOptions nowait = RequestOptions.NONE.withFlags(RwFlag.NOWAIT);
        RequestOptions both = nowait.withFlags(RwFlag.DSYNC, RwFlag.NOWAIT);
        assertThat(RequestOptions.NONE.rwFlags()).isZero();
        assertThat(nowait.rwFlags()).isEqualTo(RwFlag.NOWAIT.bits());
        assertThat(both.rwFlags()).isEqualTo(RwFlag.NOWAIT.bits() | RwFlag.DSYNC.bits());
        assertThat(both.has(RwFlag.DSYNC)).isTrue();
        assertThat(both.has(RwFlag.SYNC)).isFalse();
        assertThat(nowait.withFlags().rwFlags()).isEqualTo(nowait.rwFlags());
        assertThat(both.toString()).startsWith("RequestOptions[flags=DSYNC|NOWAIT, ");
    }

    @Test
    void shouldKeepEveryPartWhenAnotherIsAdded() throws IOException {
        IoPriority idle = new IoPriority(IoPriority.IoClass.IDLE, 7);
        try (EventFd eventFd = EventFd.open()) {
            RequestOptions options = RequestOptions.NONE.withFlags(RwFlag.APPEND).withPriority(idle)
                    .withNotify(eventFd).withFlags(RwFlag.SYNC);
            assertThat(options.rwFlags()).isEqualTo(RwFlag.APPEND.bits() | RwFlag.SYNC.bits());
            assertThat(options.priority()).isEqualTo(idle);
            assertThat(options.notifyEventFd()).isSameAs(eventFd);
            assertThat(options).hasToString("RequestOptions[flags=SYNC|APPEND, priority=IoPriority[ioClass=IDLE, "
                    + "level=7], notify=" + eventFd + "]");
        }
    }

    @Test
    void shouldRejectNullsNamingTheParameter() {
        assertThatThrownBy(() -> RequestOptions.NONE.withFlags(RwFlag.SYNC, null))
                .isInstanceOf(NullPointerException.class).hasMessage("flag");
        assertThatThrownBy(() -> RequestOptions.NONE.withPriority(null))
                .isInstanceOf(NullPointerException.class).hasMessage("priority");
        assertThatThrownBy(() -> RequestOptions.NONE.withNotify(null))
                .isInstanceOf(NullPointerException.class).hasMessage("eventFd");
    }

    @Test
    void shouldSignalTheEventFdOnceForEachKindOfRequest() throws IOException {
        Path path = TestData.writeFile(dir.resolve("notify"), 4096, SEED);
        try (AioContext aio = AioContext.open(8); AioFile file = AioFile.open(path, READ, WRITE);
             EventFd eventFd = EventFd.openNonBlocking(); Arena arena = Arena.ofConfined()) {
            RequestOptions notify = RequestOptions.NONE.withNotify(eventFd);
            aio.prepareRead(file, arena.allocate(100), 0, 1, notify);
            aio.prepareWrite(file, arena.allocate(100), 200, 2, notify);
            aio.prepareFsync(file, 3, notify);
            aio.prepareFdatasync(file, 4, notify);
            aio.prepareReadVectored(file, new MemorySegment[] {arena.allocate(10)}, 0, 5, notify);
            aio.prepareWrite(file, arena.allocate(10), 0, 6); // not signalled
            aio.submit();
            while (aio.inFlight() > 0) {
                aio.await(1, 10, TimeUnit.SECONDS, (tag, result) -> assertThat(result).isNotNegative());
            }
            assertThat(eventFd.read()).isEqualTo(5);
        }
    }

    @Test
    void shouldRefuseAClosedEventFdWhenPreparingAndReleaseTheFile() throws IOException {
        Path path = TestData.writeFile(dir.resolve("closed-notify"), 4096, SEED);
        EventFd eventFd = EventFd.open();
        RequestOptions notify = RequestOptions.NONE.withNotify(eventFd);
        eventFd.close();
        try (AioContext aio = AioContext.open(4); Arena arena = Arena.ofConfined()) {
            AioFile file = AioFile.open(path, READ);
            Path fdLink = Path.of("/proc/self/fd", Integer.toString(file.handle.fd()));
            assertThatThrownBy(() -> aio.prepareRead(file, arena.allocate(10), 0, 1, notify))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageMatching("EventFd \\d+ is closed");
            assertThat(aio.prepared()).isZero();
            file.close();
            // The failed prepare gave back its use of the file: close() really closed the descriptor.
            assertThat(Files.exists(fdLink, LinkOption.NOFOLLOW_LINKS)
                    && Files.readSymbolicLink(fdLink).equals(path)).isFalse();
        }
    }

    @Test
    void shouldKeepTheEventFdOpenForAPreparedRequestUntilItIsSubmitted() throws IOException {
        Path path = TestData.writeFile(dir.resolve("notify-closed-later"), 4096, SEED);
        try (AioContext aio = AioContext.open(4); AioFile file = AioFile.open(path, READ);
             Arena arena = Arena.ofConfined()) {
            EventFd eventFd = EventFd.open();
            aio.prepareRead(file, arena.allocate(100), 0, 1, RequestOptions.NONE.withNotify(eventFd));
            eventFd.close();
            // Were the descriptor closed now, io_submit would fail with EBADF on aio_resfd.
            assertThat(aio.submit()).isEqualTo(1);
            long[] result = {0};
            aio.await(1, 10, TimeUnit.SECONDS, (tag, res) -> result[0] = res);
            assertThat(result[0]).isEqualTo(100);
        }
    }
}
