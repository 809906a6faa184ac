package dev.panaio.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * bench/c/nullread.c: a C loop making the same system calls as
 * {@link PanaioEngine} (one io_submit per batch, reaping from the ring,
 * io_getevents only when it is empty). Its distance from panaio is the cost of
 * doing it from Java. It runs every workload, but it exists for nullread,
 * where nothing but that cost is left.
 */
final class CLoopEngine implements Engine {
    /** Where scripts/bench put the compiled loop. */
    static final String BINARY_PROPERTY = "panaio.bench.cloop";

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String name() {
        return "c-loop";
    }

    @Override
    public boolean isPeer() {
        return false;
    }

    /** Its loop draws its own offsets, so it cannot share append's stream, and it has no durable writes. */
    @Override
    public boolean supports(Workload workload) {
        return workload != Workload.WAL && workload != Workload.APPEND;
    }

    private static Path binary() {
        String path = System.getProperty(BINARY_PROPERTY);
        return path == null ? null : Path.of(path);
    }

    @Override
    public boolean runsInThisJvm() {
        return false;
    }

    @Override
    public String unavailableReason() {
        Path binary = binary();
        return binary == null || !Files.isExecutable(binary)
                ? "the C loop is not built: scripts/bench compiles bench/c/nullread.c when gcc is installed "
                + "(apt-get install gcc)" : null;
    }

    @Override
    public EngineResult run(RunSpec spec) throws EngineException, InterruptedException {
        List<String> cmd = List.of(binary().toString(), spec.workload().id(), spec.file().toString(),
                Long.toString(spec.fileSize()), Integer.toString(spec.bs()), Integer.toString(spec.qd()),
                spec.direct() ? "1" : "0", Double.toString(spec.warmupNanos() / 1e9),
                Double.toString(spec.measureNanos() / 1e9), Integer.toString(spec.batch()));
        Progress.say(String.format(Locale.ROOT, "  c-loop: %.1f s warm-up + %.1f s: %s", spec.warmupNanos() / 1e9,
                spec.measureNanos() / 1e9, String.join(" ", cmd)));
        String out = ExternalProcess.run(name(), cmd);
        try {
            JsonNode r = JSON.readTree(out);
            // It times its io_submit calls as the panaio loop does (an older binary without them gives NaN).
            return new EngineResult(name(), r.path("ops").asLong(), r.path("seconds").asDouble(),
                    r.path("p50_us").asDouble(), r.path("p99_us").asDouble(), r.path("p999_us").asDouble(),
                    r.path("cpu_s").asDouble(), null, r.path("submit_p999_us").asDouble(Double.NaN),
                    r.path("submit_max_us").asDouble(Double.NaN), -1, null, SchedulerWait.UNKNOWN, null);
        } catch (IOException e) {
            throw new EngineException("cannot read the C loop's JSON output: " + e.getMessage(), e);
        }
    }
}
