package dev.panaio;

import dev.panaio.testing.ChildJvm;
import dev.panaio.testing.WalRecord;
import dev.panaio.testing.child.WalWriter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crash consistency of write-ahead-log records, written with the two schemes
 * of the wal workload of scripts/bench (which drives an AioContext itself;
 * here the engine does): a child JVM ({@link WalWriter}) appends
 * checksummed, numbered 4 KiB records with O_DIRECT through an
 * {@link AioEngine}, either each with {@code RWF_DSYNC} or in groups made
 * durable by one fdatasync request, and reports a record on stdout only once
 * it is durable. The parent kills it with SIGKILL mid-run, reads the log back
 * and checks it as a recovering journal would:
 * <ul>
 *   <li>every record reported durable is there, intact (its number, payload and CRC32C);</li>
 *   <li>every other block is either intact or never written (zeros): nothing torn, misplaced or
 *       garbage;</li>
 *   <li>the records form a ledger: a record is on disk only if every record more than a window
 *       (the records the writer keeps outstanding) before it is too, so the log is a valid prefix
 *       followed by at most a window's worth of stragglers.</li>
 * </ul>
 *
 * <p>What this proves, and what not: SIGKILL ends the process, not the
 * machine. The kernel finishes the dead process's AIO before it is reaped, and
 * the page cache survives, so this checks panaio's side of the promise
 * (a completion is reported only after the kernel's, memory is not reused
 * while the kernel still reads it, nothing queued is reported) rather than
 * the disk's behaviour on power loss, which would need a device that can drop
 * its unflushed writes (dm-flakey or dm-log-writes; this kernel has no
 * device-mapper, and a loop device keeps everything its backing file got).
 * So an fdatasync reported complete before the kernel finished it goes
 * unseen here when the writes it covers have completed; that the durability
 * flag reaches the kernel is RequestOptionsPassThroughTest's (the device cache flush
 * the block layer issues for it).
 */
class WalCrashConsistencyTest {
    private static final int WINDOW = 32;
    /** Room for this many records: more than the writer can reach before it is killed. */
    private static final long CAPACITY = 65_536;
    /** Records reported durable before the kill. */
    private static final int KILL_AFTER = 3_000;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"dsync", "group"})
    void shouldFindEveryRecordReportedDurableIntactAfterTheWriterIsKilled(String mode) throws Exception {
        Path log = dir.resolve("wal-" + mode);
        try (AioFile file = AioFile.open(log, CREATE_NEW, WRITE)) {
            file.preallocate(0, CAPACITY * WalRecord.SIZE, false); // reads as zeros until written
        }
        BitSet durable = new BitSet();
        long lastReported = -1;
        int reports = 0;
        boolean done = false;
        Process writer = ChildJvm.startOnClassPath(WalWriter.class, List.of("--enable-native-access=ALL-UNNAMED"),
                log.toString(), mode, Integer.toString(WINDOW), Long.toString(CAPACITY));
        try (var lines = new BufferedReader(
                new InputStreamReader(writer.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.equals("DONE")) {
                    done = true;
                    continue;
                }
                assertThat(line).as("the writer's report").startsWith("D ");
                long seq = Long.parseLong(line.substring(2));
                assertThat(durable.get((int) seq)).as("record %d reported durable twice", seq).isFalse();
                durable.set((int) seq);
                lastReported = Math.max(lastReported, seq);
                if (++reports == KILL_AFTER) {
                    // SIGKILL, through the handle: Process.destroyForcibly would also close the pipe, which
                    // still holds what the writer printed before it died.
                    writer.toHandle().destroyForcibly();
                }
            }
        } finally {
            writer.destroyForcibly();
            assertThat(writer.waitFor(30, TimeUnit.SECONDS)).as("writer gone").isTrue();
        }
        assertThat(writer.exitValue()).as("the writer's exit (137: SIGKILL)").isEqualTo(137);
        assertThat(done).as("the writer finished before the kill: it was not killed mid-run").isFalse();
        assertThat(reports).isGreaterThanOrEqualTo(KILL_AFTER);

        List<String> problems = new ArrayList<>();
        BitSet onDisk = new BitSet();
        try (FileChannel channel = FileChannel.open(log, READ); Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(WalRecord.SIZE);
            for (long seq = 0; seq < CAPACITY; seq++) {
                block.fill((byte) 0);
                int n = channel.read(block.asByteBuffer(), seq * WalRecord.SIZE);
                assertThat(n).isEqualTo(WalRecord.SIZE);
                switch (WalRecord.check(block, seq)) {
                    case VALID -> onDisk.set((int) seq);
                    case DAMAGED -> problems.add("block " + seq + " is torn or garbage (claims record "
                            + WalRecord.claimedSeq(block) + ")");
                    case ZERO -> {
                        if (durable.get((int) seq)) {
                            problems.add("record " + seq + " was reported durable and is not on disk");
                        }
                    }
                }
            }
        }
        int prefix = onDisk.nextClearBit(0);
        int last = onDisk.length() - 1;
        System.out.printf("%s: %d reported durable (last %d), %d on disk, valid prefix %d, last on disk %d%n",
                mode, reports, lastReported, onDisk.cardinality(), prefix, last);
        assertThat(problems).as("damage in the log").isEmpty();
        BitSet reportedNotOnDisk = (BitSet) durable.clone();
        reportedNotOnDisk.andNot(onDisk);
        assertThat(reportedNotOnDisk.isEmpty()).as("records reported durable but not on disk: %s", reportedNotOnDisk)
                .isTrue();
        assertThat(last - prefix).as("records on disk past the first missing one (%d), at most a window later",
                prefix).isLessThan(WINDOW);
    }
}
