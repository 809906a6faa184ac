package dev.panaio.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * fio with its libaio engine, run on the same file with the same workload:
 * the usual native yardstick. fio times the window itself (ramp_time, then
 * runtime); its latency is fio's {@code lat} (submission plus completion), the
 * same span the harness measures, and its CPU time is the job's usr + sys.
 */
final class FioEngine implements Engine {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String name() {
        return "fio";
    }

    @Override
    public boolean runsInThisJvm() {
        return false;
    }

    @Override
    public String unavailableReason() {
        return ExternalProcess.onPath("fio") == null
                ? "fio is not installed: run scripts/install-deps bench, or apt-get install fio" : null;
    }

    @Override
    public String caveat(RunSpec spec) {
        return spec.workload() == Workload.SEQREAD
                ? "fio reads seqread as one sequential stream at depth qd, not qd streams" : null;
    }

    /** The fio command line for {@code spec}. */
    static List<String> command(RunSpec spec) {
        String rw = switch (spec.workload()) {
            case RANDREAD -> "randread";
            case RANDWRITE -> "randwrite";
            case SEQREAD, NULLREAD -> "read";
        };
        long size = spec.workload().usesDataFile() ? spec.fileSize() / spec.bs() * spec.bs() : 1L << 30;
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=panaio-bench",
                "--filename=" + spec.file(), "--ioengine=libaio", "--rw=" + rw, "--bs=" + spec.bs(),
                "--iodepth=" + spec.qd(), "--direct=" + (spec.direct() ? 1 : 0), "--size=" + size,
                "--time_based", "--runtime=" + millis(spec.measureNanos()),
                "--norandommap", "--randrepeat=0", "--lat_percentiles=1", "--percentile_list=50:99:99.9",
                "--output-format=json"));
        if (spec.warmupNanos() > 0) {
            cmd.add("--ramp_time=" + millis(spec.warmupNanos()));
        }
        return cmd;
    }

    private static String millis(long nanos) {
        return Math.max(1, Math.round(nanos / 1e6)) + "ms";
    }

    @Override
    public EngineResult run(RunSpec spec) throws EngineException, InterruptedException {
        List<String> cmd = command(spec);
        Progress.say(String.format(Locale.ROOT, "  fio: %.1f s warm-up + %.1f s: %s", spec.warmupNanos() / 1e9,
                spec.measureNanos() / 1e9, String.join(" ", cmd)));
        String out = ExternalProcess.run(name(), cmd);
        try {
            return parse(out, spec);
        } catch (IOException | RuntimeException e) {
            throw new EngineException("cannot read fio's JSON output: " + e.getMessage(), e);
        }
    }

    static EngineResult parse(String out, RunSpec spec) throws IOException {
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
        return new EngineResult("fio", ops, seconds, percentiles.path("50.000000").asDouble() / 1e3,
                percentiles.path("99.000000").asDouble() / 1e3, percentiles.path("99.900000").asDouble() / 1e3,
                cpuPercent / 100 * seconds, null);
    }
}
