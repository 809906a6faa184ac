package dev.panaio.testing.child;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.AioArena;
import dev.panaio.AioEngine;
import dev.panaio.AioFile;
import dev.panaio.RequestOptions;
import dev.panaio.RwFlag;
import dev.panaio.testing.WalRecord;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Appends {@link WalRecord}s with O_DIRECT through an {@link AioEngine},
 * keeping {@code window} records outstanding, and prints {@code D <seq>} on
 * stdout for each record only once it is durable; the parent kills it with
 * SIGKILL mid-run. Ends with {@code DONE} if it is never killed.
 *
 * <p>Arguments: the preallocated file, the mode, the window and how many
 * records at most. Modes, as the wal workload of scripts/bench:
 * <ul>
 *   <li>{@code dsync}: each write carries {@code RWF_DSYNC}; its completion
 *       makes its record durable;</li>
 *   <li>{@code group}: plain writes, and one fdatasync request at a time for
 *       the writes completed before it was submitted: its completion makes
 *       exactly those durable (group commit).</li>
 * </ul>
 * A record's memory is reused only once that record is durable, so no more
 * than {@code window} records are ever outstanding.
 */
public final class WalWriter {
    private WalWriter() {
    }

    /** An engine completion, handed to the one thread that decides and reports. */
    private record Event(boolean sync, long seq, int slot, long result, List<long[]> batch) {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        boolean group = switch (args[1]) {
            case "dsync" -> false;
            case "group" -> true;
            default -> throw new IllegalArgumentException(args[1]);
        };
        int window = Integer.parseInt(args[2]);
        long records = Long.parseLong(args[3]);
        RequestOptions options = group ? RequestOptions.NONE : RequestOptions.NONE.withFlags(RwFlag.DSYNC);
        var out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 1 << 16);
        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        try (AioEngine engine = AioEngine.open(); AioArena arena = AioArena.open();
             AioFile file = AioFile.open(path, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
            MemorySegment[] slots = new MemorySegment[window];
            ArrayDeque<Integer> free = new ArrayDeque<>();
            for (int i = 0; i < window; i++) {
                slots[i] = arena.allocate(WalRecord.SIZE, WalRecord.SIZE);
                free.push(i);
            }
            List<long[]> written = new ArrayList<>(); // group: {seq, slot} written, not yet covered by an fdatasync
            boolean syncInFlight = false;
            long next = 0;
            int outstanding = 0;
            while (next < records || outstanding > 0) {
                while (!free.isEmpty() && next < records) {
                    int slot = free.pop();
                    long seq = next++;
                    WalRecord.encode(slots[slot], seq);
                    engine.write(file, slots[slot], seq * WalRecord.SIZE, options).whenComplete((n, error) ->
                            events.add(new Event(false, seq, slot, error == null ? n : -1, null)));
                    outstanding++;
                }
                Event event = events.take();
                do {
                    if (event.result != (event.sync ? 0 : WalRecord.SIZE)) {
                        throw new IllegalStateException("record " + event.seq + " completed with " + event.result);
                    }
                    if (event.sync) {
                        for (long[] record : event.batch) {
                            out.write("D " + record[0] + "\n"); // durable: its write completed before this fdatasync
                            free.push((int) record[1]);
                            outstanding--;
                        }
                        syncInFlight = false;
                    } else if (group) {
                        written.add(new long[] {event.seq, event.slot});
                    } else {
                        out.write("D " + event.seq + "\n"); // durable: RWF_DSYNC, and the write completed
                        free.push(event.slot);
                        outstanding--;
                    }
                    event = events.poll();
                } while (event != null);
                if (group && !syncInFlight && !written.isEmpty()) {
                    List<long[]> batch = written;
                    written = new ArrayList<>();
                    syncInFlight = true;
                    engine.fdatasync(file).whenComplete((n, error) ->
                            events.add(new Event(true, -1, -1, error == null ? n : -1, batch)));
                }
                out.flush();
            }
        }
        out.write("DONE\n");
        out.flush();
    }
}
