package dev.panaio.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * fio run on the same file with the same workload: the usual native
 * yardstick, with its libaio engine ({@code fio}, the same kernel interface as
 * panaio) or its io_uring engine ({@code fio-uring}, the interface users weigh
 * Linux AIO against; fio's defaults: no SQ polling, no registered files or
 * buffers). fio times the window itself (ramp_time, then runtime); its latency
 * is fio's {@code lat} (submission plus completion), the same span the harness
 * measures, and its CPU time is the job's usr + sys.
 *
 * <p>For wal, with {@code --rw=write} over the preallocated file: {@code fio}
 * (libaio) sends an fdatasync after every write ({@code --fdatasync=1});
 * {@code fio-dsync} (libaio) and {@code fio-uring} open the file O_DSYNC
 * ({@code --sync=dsync}). For append, {@code --file_append=1} from the file's
 * end, with {@code --fallocate=none} so that fio does not preallocate what it
 * is to append.
 */
final class FioEngine implements Engine {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The sysctl that turns io_uring off: 0 allowed, 1 only for CAP_SYS_ADMIN or kernel.io_uring_group, 2 off. */
    private static final Path IO_URING_DISABLED = Path.of("/proc/sys/kernel/io_uring_disabled");
    private static final Path IO_URING_GROUP = Path.of("/proc/sys/kernel/io_uring_group");
    private static final int CAP_SYS_ADMIN = 21;

    /** How a wal record is made durable. */
    private enum Durability { FDATASYNC_EACH, O_DSYNC }

    /** The most an append run may add to the file: fio's --size for it. */
    private static final long APPEND_LIMIT = 16L << 30;

    private final String name;
    private final String ioengine;
    private final Durability durability;
    private final boolean walOnly;
    private String unavailableReason;
    private boolean checked;

    private FioEngine(String name, String ioengine, Durability durability, boolean walOnly) {
        this.name = name;
        this.ioengine = ioengine;
        this.durability = durability;
        this.walOnly = walOnly;
    }

    /** fio --ioengine=libaio; for wal, --fdatasync=1. */
    static FioEngine libaio() {
        return new FioEngine("fio", "libaio", Durability.FDATASYNC_EACH, false);
    }

    /** wal only: fio --ioengine=libaio --sync=dsync. */
    static FioEngine libaioDsync() {
        return new FioEngine("fio-dsync", "libaio", Durability.O_DSYNC, true);
    }

    /** fio --ioengine=io_uring; for wal, --sync=dsync. */
    static FioEngine ioUring() {
        return new FioEngine("fio-uring", "io_uring", Durability.O_DSYNC, false);
    }

    @Override
    public boolean supports(Workload workload) {
        return !walOnly || workload == Workload.WAL;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean runsInThisJvm() {
        return false;
    }

    @Override
    public synchronized String unavailableReason() {
        if (!checked) {
            unavailableReason = findUnavailableReason();
            checked = true;
        }
        return unavailableReason;
    }

    private String findUnavailableReason() {
        if (ExternalProcess.onPath("fio") == null) {
            return "fio is not installed: run scripts/install-deps bench, or apt-get install fio";
        }
        if (!ioengine.equals("io_uring")) {
            return null;
        }
        String disabled = ioUringDisabledReason();
        if (disabled != null) {
            return disabled;
        }
        try {
            String engines = ExternalProcess.run(name, List.of("fio", "--enghelp"));
            if (engines.lines().map(String::strip).noneMatch(ioengine::equals)) {
                return "this fio has no io_uring engine (fio --enghelp does not list it)";
            }
        } catch (EngineException e) {
            return "cannot list fio's engines: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while listing fio's engines";
        }
        return null;
    }

    /** Why this process may not create an io_uring instance, from kernel.io_uring_disabled; null if it may. */
    private static String ioUringDisabledReason() {
        String value;
        try {
            value = Files.readString(IO_URING_DISABLED).strip();
        } catch (IOException e) {
            return null; // kernels before 6.6 have no such switch
        }
        return switch (value) {
            case "2" -> "io_uring is disabled on this kernel (kernel.io_uring_disabled = 2)";
            case "1" -> mayUseRestrictedIoUring() ? null
                    : "io_uring is restricted on this kernel to CAP_SYS_ADMIN and kernel.io_uring_group "
                    + "(kernel.io_uring_disabled = 1), and this process has neither";
            default -> null;
        };
    }

    /** Whether this process (and so the fio it starts) has CAP_SYS_ADMIN or is in kernel.io_uring_group. */
    private static boolean mayUseRestrictedIoUring() {
        try {
            String group = Files.readString(IO_URING_GROUP).strip();
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                    if ((caps & (1L << CAP_SYS_ADMIN)) != 0) {
                        return true;
                    }
                } else if (line.startsWith("Groups:") || line.startsWith("Gid:")) {
                    for (String gid : line.substring(line.indexOf(':') + 1).strip().split("\\s+")) {
                        if (gid.equals(group)) {
                            return true;
                        }
                    }
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell: let fio try, and say why if it fails
        }
    }

    @Override
    public String caveat(RunSpec spec) {
        return spec.workload() == Workload.SEQREAD
                ? name + " reads seqread as one sequential stream at depth qd, not qd streams" : null;
    }

    /** The fio command line for {@code spec}. */
    List<String> command(RunSpec spec) {
        String rw = switch (spec.workload()) {
            case RANDREAD -> "randread";
            case RANDWRITE -> "randwrite";
            case SEQREAD, NULLREAD -> "read";
            case APPEND, WAL -> "write";
        };
        long size = spec.workload() == Workload.APPEND ? APPEND_LIMIT
                : spec.workload().usesDataFile() ? spec.fileSize() / spec.bs() * spec.bs() : 1L << 30;
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=panaio-bench",
                "--filename=" + spec.file(), "--ioengine=" + ioengine, "--rw=" + rw, "--bs=" + spec.bs(),
                "--iodepth=" + spec.qd(), "--direct=" + (spec.direct() ? 1 : 0), "--size=" + size,
                "--time_based", "--runtime=" + millis(spec.measureNanos()),
                "--norandommap", "--randrepeat=0", "--lat_percentiles=1", "--percentile_list=50:99:99.9",
                "--output-format=json"));
        if (spec.warmupNanos() > 0) {
            cmd.add("--ramp_time=" + millis(spec.warmupNanos()));
        }
        if (spec.workload() == Workload.APPEND) {
            cmd.addAll(List.of("--file_append=1", "--fallocate=none"));
        } else if (spec.workload() == Workload.WAL) {
            cmd.add("--fallocate=none");
            cmd.add(durability == Durability.FDATASYNC_EACH ? "--fdatasync=1" : "--sync=dsync");
        }
        return cmd;
    }

    private static String millis(long nanos) {
        return Math.max(1, Math.round(nanos / 1e6)) + "ms";
    }

    @Override
    public EngineResult run(RunSpec spec) throws EngineException, InterruptedException {
        List<String> cmd = command(spec);
        Progress.say(String.format(Locale.ROOT, "  %s: %.1f s warm-up + %.1f s: %s", name, spec.warmupNanos() / 1e9,
                spec.measureNanos() / 1e9, String.join(" ", cmd)));
        String out = ExternalProcess.run(name(), cmd);
        try {
            return parse(out, spec);
        } catch (IOException | RuntimeException e) {
            throw new EngineException("cannot read fio's JSON output: " + e.getMessage(), e);
        }
    }

    EngineResult parse(String out, RunSpec spec) throws IOException {
        // fio may print notes before its JSON document.
        int start = out.indexOf('{');
        if (start < 0) {
            throw new IOException("no JSON document in: " + out.strip());
        }
        JsonNode job = JSON.readTree(out.substring(start)).path("jobs").path(0);
        if (job.path("error").asInt(0) != 0) {
            throw new IOException("fio's job failed with error " + job.path("error").asInt());
        }
        JsonNode dir = job.path(spec.reads() ? "read" : "write");
        long ops = dir.path("total_ios").asLong();
        double seconds = dir.path("runtime").asDouble() / 1e3;
        JsonNode percentiles = dir.path("lat_ns").path("percentile");
        if (percentiles.isMissingNode()) {
            percentiles = dir.path("clat_ns").path("percentile");
        }
        double cpuPercent = job.path("usr_cpu").asDouble() + job.path("sys_cpu").asDouble();
        String note = null;
        if (spec.workload() == Workload.WAL && durability == Durability.FDATASYNC_EACH) {
            // fio times its fdatasyncs apart from the writes: a record's commit takes both.
            JsonNode sync = job.path("sync").path("lat_ns");
            note = String.format(Locale.ROOT, "latency is fio's write latency only; its %d fdatasyncs took p50 %.1f "
                            + "µs, p99 %.1f µs more", job.path("sync").path("lat_ns").path("N").asLong(),
                    sync.path("percentile").path("50.000000").asDouble() / 1e3,
                    sync.path("percentile").path("99.000000").asDouble() / 1e3);
        }
        return new EngineResult(name, ops, seconds, percentiles.path("50.000000").asDouble() / 1e3,
                percentiles.path("99.000000").asDouble() / 1e3, percentiles.path("99.900000").asDouble() / 1e3,
                cpuPercent / 100 * seconds, note);
    }
}
