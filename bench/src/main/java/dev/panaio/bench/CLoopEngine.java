package dev.panaio.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * bench/c/nullread.c, in one of its three modes.
 * <ul>
 *   <li>{@code c-loop}: a C loop making the same system calls as
 *       {@link PanaioEngine} (one io_submit per batch, reaping from the ring,
 *       io_getevents only when it is empty). Its distance from panaio is the
 *       cost of doing it from Java. It runs every workload, but it exists for
 *       nullread, where nothing but that cost is left.</li>
 *   <li>{@code c-handoff}: the shape of {@link PanaioAsyncEngine} in C, an
 *       engine thread that submits and reaps and a handler thread that takes
 *       each completion and queues the next request, each sleeping in an
 *       eventfd and woken by the other. Its distance from fio is what two
 *       hand-offs per request cost on the machine, with no JVM in the way.</li>
 *   <li>{@code c-wake}: the shape of {@link PanaioVirtualThreadEngine} on an
 *       idle engine in C, {@code qd} caller threads that each submit their own
 *       request and sleep on a futex until an engine thread, asleep in
 *       io_getevents, wakes them with its completion. Its distance from
 *       {@code filechannel} is what keeping the caller out of the device's
 *       wait costs on the machine: a second wake-up per request.</li>
 * </ul>
 */
final class CLoopEngine implements Engine {
    /** Where scripts/bench put the compiled loop. */
    static final String BINARY_PROPERTY = "panaio.bench.cloop";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final String mode;

    private CLoopEngine(String name, String mode) {
        this.name = name;
        this.mode = mode;
    }

    /** The panaio engine's loop in C. */
    static CLoopEngine loop() {
        return new CLoopEngine("c-loop", "loop");
    }

    /** The asynchronous channel's two threads in C. */
    static CLoopEngine handoff() {
        return new CLoopEngine("c-handoff", "handoff");
    }

    /** The blocking channel's callers and engine thread in C, its engine idle: each caller submits its own. */
    static CLoopEngine wake() {
        return new CLoopEngine("c-wake", "wake");
    }

    @Override
    public String name() {
        return name;
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
                Double.toString(spec.measureNanos() / 1e9), Integer.toString(spec.batch()), mode);
        Progress.say(String.format(Locale.ROOT, "  %s: %.1f s warm-up + %.1f s: %s", name, spec.warmupNanos() / 1e9,
                spec.measureNanos() / 1e9, String.join(" ", cmd)));
        String out = ExternalProcess.run(name(), cmd);
        try {
            JsonNode r = JSON.readTree(out);
            // It times its io_submit calls as the panaio loop does, and reads its threads' schedstat over the window.
            SchedulerWait scheduler = new SchedulerWait(r.path("run_queue_wait_ns").asLong(-1),
                    r.path("thread_runs").asLong(-1), -1,
                    GcPauses.Summary.UNKNOWN, JitCompilers.Summary.UNKNOWN);
            return new EngineResult(name(), r.path("ops").asLong(), r.path("seconds").asDouble(),
                    r.path("p50_us").asDouble(), r.path("p99_us").asDouble(), r.path("p999_us").asDouble(),
                    r.path("cpu_s").asDouble(), null, r.path("submit_p999_us").asDouble(Double.NaN),
                    r.path("submit_max_us").asDouble(Double.NaN), -1, null, scheduler, null);
        } catch (IOException e) {
            throw new EngineException("cannot read the C loop's JSON output: " + e.getMessage(), e);
        }
    }
}
