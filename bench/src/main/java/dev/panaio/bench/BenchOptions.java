package dev.panaio.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The command line of {@code scripts/bench}, parsed.
 *
 * @param sweep    run every queue depth of {@code qdList} instead of one run at {@code qd}
 * @param engines  engine names asked for, or empty for every available engine
 * @param file     the file to run on, or null for the benchmark's own data file
 * @param size     size of the data file the benchmark makes (its own, or a --file that does not exist)
 * @param direct   O_DIRECT for file workloads
 * @param seconds  length of the measured window
 * @param warmup   length of the warm-up before it
 * @param batch    most requests per io_submit for panaio, ffm-loop, c-loop and c-handoff ({@link #DEFAULT_BATCH}
 *                 unless set); 0 for
 *                 every free slot at once
 * @param uncached buffered reads that miss the page cache: the file's pages are evicted before and during each run
 * @param fallocated wal on a file preallocated with fallocate(2), made anew before each engine
 * @param stallTrace panaio-async and jdk-afc split each submitting call's time into run-queue wait, CPU time and
 *                   the rest ({@link StallTrace})
 * @param rounds   times the engines run, interleaved, the order rotated each round ({@link Rounds}); 1 by default
 */
public record BenchOptions(boolean sweep, Workload workload, List<String> engines, Path file, long size, int bs,
                           int qd, int batch, List<Integer> qdList, double seconds, double warmup,
                           boolean direct, boolean json, boolean uncached, boolean fallocated,
                           boolean stallTrace, int rounds) {
    /**
     * Requests per io_submit unless {@code --batch} says otherwise. While io_submit handles more than two
     * requests the kernel plugs the block queue, so the first wait for the last to be prepared; two per call
     * stays below that and still halves the system calls of one per call (docs/BENCHMARKS.md, "Submission policy").
     */
    static final int DEFAULT_BATCH = 2;

    /** The most rounds one command runs. */
    static final int MAX_ROUNDS = 50;

    static final String USAGE = """
            usage: scripts/bench [WORKLOAD] [options]
                   scripts/bench sweep [WORKLOAD] [options]
                   scripts/bench jmh [JMH options]
                   scripts/bench preadcost [FILE [ROUNDS [CALLS]]]  (a cached read's system call, in C)
                   scripts/bench wakeup [ROUNDS [TRIPS]]  (what waking a thread costs here, in C)

            workloads: randread (default), randwrite, seqread;
                       append: writes that extend the file, one sequential stream from its end (the
                         file is cut back to its size after each engine);
                       wal: a write-ahead log: --bs records in one sequential stream over the file,
                         preallocated by having been written in full (or see --fallocated),
                         each counted only once durable (O_DIRECT + RWF_DSYNC,
                         O_DSYNC, fdatasync per record or one per batch: see below);
                       nullread: buffered reads of --bs bytes from /dev/zero, which leave only the
                         cost of a request
            options:
              --engine E[,E...]  engines to run (default: all available that run the workload):
                                 %s
              --file PATH        file to run on (default: target/bench/bench.dat, made once); a file
                                 that does not exist is made at --size; randwrite and wal
                                 overwrite the file's contents
              --size N[k|m|g]    size of the file the benchmark makes (default 1g)
              --bs N[k|m]        bytes per request (default 4096)
              --qd N             requests in flight; threads for thread-based engines (default 32)
              --batch N|all      panaio, ffm-loop, c-loop, c-handoff: at most N per io_submit (default 2: a
                                 call of more than 2 plugs the block queue until all of it is
                                 prepared; 1 is fio's default; all: every free slot in one call)
              --seconds S        measured window (default 5; 2 for sweep)
              --warmup S         warm-up before it (default 1)
              --direct           O_DIRECT (the default for file workloads)
              --buffered         through the page cache (the file must fit in it to measure the
                                 cache, not the disk: try --size 256m); buffered writes run into
                                 dirty-page throttling once they outgrow the dirty limits, which the
                                 run prints (append: try --seconds 30; randwrite dirties at most
                                 the file, so it also needs a file larger than the limits, such as
                                 --size 8g --file target/bench/big8g.dat)
              --uncached         buffered reads that miss the page cache: the file's pages are evicted
                                 before each engine and every %d ms during its run
                                 (posix_fadvise DONTNEED); the hit ratio seen is reported.
                                 Implies --buffered; reads only
              --fallocated       wal: log to a file preallocated with fallocate(2) (unwritten extents),
                                 made anew beside the data file before each engine, instead of the
                                 data file, which was written in full when made (written extents)
              --stall-trace      panaio-async(-inline) and jdk-afc: around each submitting call, the
                                 calling thread reads its run-queue wait (/proc/thread-self/schedstat)
                                 and CPU time (CLOCK_THREAD_CPUTIME_ID); the calls over 20 us and
                                 over 1 ms are split into run-queue wait, on CPU and the rest
                                 (blocked, sleeping). Costs four system calls per call, outside the
                                 timed call; not in the default run
              --rounds N         run the engines N times (1 to 50), interleaved, the order rotated
                                 each round; after each round's table, the medians, and each ratio
                                 to panaio taken within a round, as a median with its least and
                                 greatest: this host's speed drifts by 15 %% from one second to the
                                 next, so engines compared in one window each are compared across
                                 that drift (default 1)
              --json             one JSON object per engine per line on stdout, nothing else; with
                                 --rounds, each row has its "round", and a "summary" row per engine
                                 follows them
              --qd-list A,B,...  queue depths of a sweep (default 1,2,4,...,256)
              -h, --help         this text

            wal: each record durable before it counts (O_DIRECT unless --buffered):
              panaio             AioContext, each write with RWF_DSYNC
              panaio-group       AioContext, plain writes, and one fdatasync request (IOCB_CMD_FDSYNC)
                                 per batch of completed writes: group commit
              panaio-async       AioAsynchronousFileChannel on a file opened with DSYNC (O_DSYNC)
              jdk-afc            AsynchronousFileChannel opened with DSYNC
              filechannel        --qd threads, each: write, then force(false); also
                                 panaio-vthreads and filechannel-vthreads on virtual threads
              filechannel-group  --qd threads write; one force(false) serves every record written
                                 before it began: group commit
              fio                libaio, --fdatasync=1; fio-dsync: libaio, --sync=dsync;
                                 fio-uring: io_uring, --sync=dsync
            """;

    /** A command line that cannot be run; the message is one line. */
    public static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** The usage text, naming the engines that exist. */
    public static String usage() {
        return String.format(Locale.ROOT, USAGE, String.join(", ", Engines.names()), PageCacheWatch.PERIOD_MILLIS);
    }

    /**
     * Parses the arguments; {@code --help} gives a null result.
     *
     * @throws UsageException naming the first thing wrong
     */
    public static BenchOptions parse(String... args) throws UsageException {
        boolean sweep = false;
        Workload workload = null;
        List<String> engines = List.of();
        Path file = null;
        long size = 1L << 30;
        int bs = 4096;
        int qd = 32;
        int batch = DEFAULT_BATCH;
        List<Integer> qdList = List.of(1, 2, 4, 8, 16, 32, 64, 128, 256);
        Double seconds = null;
        Double warmup = null;
        Boolean direct = null;
        boolean json = false;
        boolean uncached = false;
        boolean fallocated = false;
        boolean stallTrace = false;
        int rounds = 1;

        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            if (arg.startsWith("--") && arg.contains("=")) {
                value = arg.substring(arg.indexOf('=') + 1);
                arg = arg.substring(0, arg.indexOf('='));
            }
            switch (arg) {
                case "-h", "--help" -> {
                    return null;
                }
                case "--json" -> json = true;
                case "--direct" -> direct = Boolean.TRUE;
                case "--buffered" -> direct = Boolean.FALSE;
                case "--uncached" -> uncached = true;
                case "--fallocated" -> fallocated = true;
                case "--stall-trace" -> stallTrace = true;
                case "--engine", "--engines", "--file", "--size", "--bs", "--qd", "--batch", "--seconds",
                     "--warmup", "--qd-list", "--rounds" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException(arg + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (arg) {
                        case "--engine", "--engines" -> engines = parseEngines(value);
                        case "--file" -> file = Path.of(value);
                        case "--size" -> size = parseBytes(arg, value);
                        case "--bs" -> bs = (int) Math.min(parseBytes(arg, value), Integer.MAX_VALUE);
                        case "--qd" -> qd = parseCount(arg, value);
                        case "--batch" -> batch = "all".equals(value.trim()) ? 0 : parseCount(arg, value);
                        case "--seconds" -> seconds = parseSeconds(arg, value, false);
                        case "--warmup" -> warmup = parseSeconds(arg, value, true);
                        case "--qd-list" -> qdList = parseQdList(value);
                        case "--rounds" -> rounds = parseCount(arg, value);
                        default -> throw new AssertionError(arg);
                    }
                }
                default -> {
                    if (arg.startsWith("-")) {
                        throw new UsageException("unknown option " + arg);
                    }
                    if (arg.equals("sweep") && !sweep && workload == null) {
                        sweep = true;
                    } else if (Workload.byId(arg) != null && workload == null) {
                        workload = Workload.byId(arg);
                    } else {
                        throw new UsageException("unexpected argument '" + arg + "': the workloads are "
                                + Arrays.stream(Workload.values()).map(Workload::id).toList());
                    }
                }
            }
        }
        if (workload == null) {
            workload = Workload.RANDREAD;
        }
        if (bs > (1 << 30)) {
            throw new UsageException("--bs must be at most 1g");
        }
        if (!workload.usesDataFile()) {
            if (Boolean.TRUE.equals(direct)) {
                throw new UsageException("nullread reads /dev/zero, which has no O_DIRECT: drop --direct");
            }
            if (file != null) {
                throw new UsageException("nullread always reads /dev/zero: drop --file");
            }
            direct = Boolean.FALSE;
        }
        if (uncached) {
            if (Boolean.TRUE.equals(direct)) {
                throw new UsageException("--uncached is for buffered reads; O_DIRECT never uses the page cache: "
                        + "drop --direct");
            }
            if (!workload.isRead() || !workload.usesDataFile()) {
                throw new UsageException("--uncached evicts a data file's pages for reads: use it with randread "
                        + "or seqread, not " + workload.id());
            }
            direct = Boolean.FALSE;
        }
        if (fallocated && workload != Workload.WAL) {
            throw new UsageException("--fallocated is for wal, not " + workload.id());
        }
        if (rounds > MAX_ROUNDS) {
            throw new UsageException("--rounds must be between 1 and " + MAX_ROUNDS + ", not " + rounds);
        }
        if (rounds > 1 && sweep) {
            throw new UsageException("--rounds is for one queue depth, not a sweep: run the sweep's queue depths "
                    + "with --qd and --rounds instead");
        }
        if (file == null && size < bs) {
            throw new UsageException("--size " + size + " is smaller than --bs " + bs);
        }
        return new BenchOptions(sweep, workload, engines, file, size, bs, qd, batch, qdList,
                seconds != null ? seconds : sweep ? 2 : 5, warmup != null ? warmup : 1,
                direct == null || direct, json, uncached, fallocated, stallTrace, rounds);
    }

    private static List<String> parseEngines(String value) throws UsageException {
        List<String> names = new ArrayList<>();
        for (String name : value.split(",")) {
            name = name.trim();
            if (name.isEmpty()) {
                continue;
            }
            if (Engines.byName(name) == null) {
                throw new UsageException("unknown engine '" + name + "': the engines are "
                        + String.join(", ", Engines.names()));
            }
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        if (names.isEmpty()) {
            throw new UsageException("--engine needs at least one engine name");
        }
        return List.copyOf(names);
    }

    /** {@code 4096}, {@code 4k}, {@code 1m}, {@code 1g}: binary multiples. */
    static long parseBytes(String option, String value) throws UsageException {
        String v = value.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (v.endsWith("ib")) {
            v = v.substring(0, v.length() - 2);
        } else if (v.endsWith("b")) {
            v = v.substring(0, v.length() - 1);
        }
        if (!v.isEmpty()) {
            switch (v.charAt(v.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                case 't' -> unit = 1L << 40;
                default -> unit = 1;
            }
            if (unit != 1) {
                v = v.substring(0, v.length() - 1);
            }
        }
        try {
            long n = Long.parseLong(v);
            if (n <= 0 || n > Long.MAX_VALUE / unit) {
                throw new UsageException(option + " must be positive and not absurdly large, not " + value);
            }
            return n * unit;
        } catch (NumberFormatException e) {
            throw new UsageException(option + " takes a size such as 4096, 4k, 1m or 1g, not '" + value + "'");
        }
    }

    private static int parseCount(String option, String value) throws UsageException {
        try {
            int n = Integer.parseInt(value.trim());
            if (n < 1 || n > 4096) {
                throw new UsageException(option + " must be between 1 and 4096, not " + value);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(option + " takes a whole number, not '" + value + "'");
        }
    }

    private static double parseSeconds(String option, String value, boolean zeroAllowed) throws UsageException {
        try {
            double s = Double.parseDouble(value.trim());
            if (!(s >= 0) || (!zeroAllowed && s == 0) || s > 86_400) {
                throw new UsageException(option + " must be " + (zeroAllowed ? "0" : "more than 0")
                        + " to 86400 seconds, not " + value);
            }
            return s;
        } catch (NumberFormatException e) {
            throw new UsageException(option + " takes seconds such as 5 or 0.5, not '" + value + "'");
        }
    }

    private static List<Integer> parseQdList(String value) throws UsageException {
        List<Integer> qds = new ArrayList<>();
        for (String part : value.split(",")) {
            if (!part.isBlank()) {
                qds.add(parseCount("--qd-list", part));
            }
        }
        if (qds.isEmpty()) {
            throw new UsageException("--qd-list needs at least one queue depth");
        }
        return List.copyOf(qds);
    }
}
