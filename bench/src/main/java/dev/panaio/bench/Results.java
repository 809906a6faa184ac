package dev.panaio.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

/** The table people read, and the JSON lines programs read. */
final class Results {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Results() {
    }

    /** One JSON object, on one line, for one engine's result or failure. */
    static String jsonLine(RunSpec spec, String engine, EngineResult r, String error, EngineResult baseline) {
        ObjectNode o = JSON.createObjectNode();
        o.put("engine", engine);
        o.put("workload", spec.workload().id());
        o.put("bs", spec.bs());
        o.put("qd", spec.qd());
        o.put("direct", spec.direct());
        o.put("batch", spec.batch());
        o.put("file", spec.file().toString());
        if (r == null) {
            o.put("error", error);
            return o.toString();
        }
        o.put("seconds", round(r.seconds(), 3));
        o.put("ops", r.ops());
        o.put("iops", round(r.iops(), 1));
        o.put("mib_s", round(r.mibPerSecond(spec.bs()), 2));
        o.put("p50_us", round(r.p50Us(), 2));
        o.put("p99_us", round(r.p99Us(), 2));
        o.put("p999_us", round(r.p999Us(), 2));
        o.put("cpu_s", round(r.cpuSeconds(), 4));
        o.put("cpu_us_per_op", round(r.cpuMicrosPerOp(), 4));
        if (Double.isFinite(r.submitP999Us())) {
            o.put("submit_p999_us", round(r.submitP999Us(), 2));
            o.put("submit_max_us", round(r.submitMaxUs(), 2));
        }
        if (baseline != null && baseline.iops() > 0) {
            o.put("iops_x_panaio", round(r.iops() / baseline.iops(), 3));
            o.put("cpu_per_op_x_panaio", round(r.cpuMicrosPerOp() / baseline.cpuMicrosPerOp(), 3));
        }
        return o.toString();
    }

    private static double round(double v, int places) {
        if (!Double.isFinite(v)) {
            return 0;
        }
        double scale = Math.pow(10, places);
        return Math.round(v * scale) / scale;
    }

    /** One result or failure of an engine. */
    record Row(String engine, EngineResult result, String error) {
    }

    /** The human table: one row per engine, ratios against panaio when it ran. */
    static String table(RunSpec spec, List<Row> rows) {
        EngineResult base = baseline(rows);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s bs=%d qd=%d%s %s, %s: %.1f s measured after %.1f s warm-up%n",
                spec.workload().id(), spec.bs(), spec.qd(),
                spec.batch() < spec.qd() ? " batch<=" + spec.batch() : "",
                spec.direct() ? "O_DIRECT" : "buffered", spec.file(),
                spec.measureNanos() / 1e9, spec.warmupNanos() / 1e9));
        sb.append(String.format(Locale.ROOT, "%-22s %10s %9s %9s %9s %9s %10s %9s %9s%n", "engine", "IOPS", "MiB/s",
                "p50 µs", "p99 µs", "p99.9 µs", "CPU µs/op", "IOPS", "CPU/op"));
        sb.append(String.format(Locale.ROOT, "%-22s %10s %9s %9s %9s %9s %10s %9s %9s%n", "", "", "", "", "", "",
                "", "x panaio", "x panaio"));
        sb.append(String.format(Locale.ROOT, "%-22s %10s %9s %9s %9s %9s %10s %9s %9s%n", "better:", "higher",
                "higher", "lower", "lower", "lower", "lower", "<1 panaio", ">1 panaio"));
        for (Row row : rows) {
            EngineResult r = row.result();
            if (r == null) {
                sb.append(String.format(Locale.ROOT, "%-22s failed: %s%n", row.engine(), row.error()));
                continue;
            }
            String iopsRatio = base != null ? String.format(Locale.ROOT, "%.2f", r.iops() / base.iops()) : "-";
            String cpuRatio = base != null
                    ? String.format(Locale.ROOT, "%.2f", r.cpuMicrosPerOp() / base.cpuMicrosPerOp()) : "-";
            sb.append(String.format(Locale.ROOT, "%-22s %,10.0f %9.1f %9.1f %9.1f %9.1f %10.2f %9s %9s%n",
                    row.engine(), r.iops(), r.mibPerSecond(spec.bs()), r.p50Us(), r.p99Us(), r.p999Us(),
                    r.cpuMicrosPerOp(), iopsRatio, cpuRatio));
        }
        sb.append(String.format(Locale.ROOT, "(x panaio: the engine's figure over panaio's, so an IOPS ratio below 1 or "
                + "a CPU/op ratio above 1 means panaio did better)%n"));
        if (rows.stream().anyMatch(row -> row.result() != null && Double.isFinite(row.result().submitP999Us()))) {
            sb.append(String.format(Locale.ROOT, "%nTime the submitting thread spent inside the submitting call:%n"));
            sb.append(String.format(Locale.ROOT, "%-22s %12s %12s%n", "engine", "p99.9 µs", "max µs"));
            for (Row row : rows) {
                EngineResult r = row.result();
                if (r != null && Double.isFinite(r.submitP999Us())) {
                    sb.append(String.format(Locale.ROOT, "%-22s %12.1f %12.1f%n", row.engine(), r.submitP999Us(),
                            r.submitMaxUs()));
                }
            }
        }
        return sb.toString();
    }

    /**
     * The one-line verdict: panaio against the peer with the most IOPS (see
     * {@link Engine#isPeer}), in IOPS and in CPU time per request, each ratio
     * saying which way is better.
     */
    static String verdict(List<Row> rows) {
        EngineResult panaio = baseline(rows);
        if (panaio == null) {
            return "verdict: none: the panaio engine did not run or completed nothing";
        }
        Row best = null;
        for (Row row : rows) {
            Engine engine = Engines.byName(row.engine());
            if (engine != null && engine.isPeer() && row.result() != null && row.result().ops() > 0
                    && (best == null || row.result().iops() > best.result().iops())) {
                best = row;
            }
        }
        if (best == null) {
            return "verdict: none: no peer ran to compare panaio with (peers: " + String.join(", ",
                    Engines.all().stream().filter(Engine::isPeer).map(Engine::name).toList()) + ")";
        }
        return String.format(Locale.ROOT, "verdict: panaio did %.2fx the IOPS of the best peer, %s (higher is "
                        + "better), at %.2fx its CPU time per request (lower is better)",
                panaio.iops() / best.result().iops(), best.engine(),
                panaio.cpuMicrosPerOp() / best.result().cpuMicrosPerOp());
    }

    /** panaio's result, when it ran and completed anything. */
    static EngineResult baseline(List<Row> rows) {
        for (Row row : rows) {
            if (row.engine().equals("panaio") && row.result() != null && row.result().ops() > 0) {
                return row.result();
            }
        }
        return null;
    }
}
