package dev.panaio.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code scripts/bench sweep}: every engine at each queue depth of --qd-list,
 * written to sweep.csv and drawn as sweep.png (IOPS against queue depth) and
 * sweep-cpu.png (CPU time per request against queue depth).
 */
final class Sweep {
    private Sweep() {
    }

    static int run(BenchOptions options, List<Engine> engines, Path dataDir)
            throws BenchFailure, InterruptedException {
        Map<String, Map<Integer, EngineResult>> byEngine = new LinkedHashMap<>();
        for (Engine engine : engines) {
            byEngine.put(engine.name(), new LinkedHashMap<>());
        }
        StringBuilder csv = new StringBuilder(
                "engine,workload,bs,qd,direct,seconds,ops,iops,mib_s,p50_us,p99_us,p999_us,cpu_s,cpu_us_per_op\n");
        boolean allRan = true;
        RunSpec last = null;
        String warning = null;
        for (int qd : options.qdList()) {
            RunSpec spec = BenchTarget.prepare(options, qd, dataDir);
            if (last == null) {
                warning = BenchTarget.directIoWarning(spec);
                if (warning != null) {
                    Progress.say(warning);
                }
            }
            last = spec;
            List<Results.Row> rows = Bench.runAll(spec, engines);
            if (options.json()) {
                Bench.print(spec, rows, true);
            }
            for (Results.Row row : rows) {
                EngineResult r = row.result();
                if (r == null) {
                    allRan = false;
                    continue;
                }
                byEngine.get(row.engine()).put(qd, r);
                csv.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%b,%.3f,%d,%.1f,%.2f,%.2f,%.2f,%.2f,%.4f,%.4f%n",
                        row.engine(), spec.workload().id(), spec.bs(), qd, spec.direct(), r.seconds(), r.ops(),
                        r.iops(), r.mibPerSecond(spec.bs()), r.p50Us(), r.p99Us(), r.p999Us(), r.cpuSeconds(),
                        r.cpuMicrosPerOp()));
            }
        }
        Path csvFile = dataDir.resolve("sweep.csv");
        Path pngFile = dataDir.resolve("sweep.png");
        Path cpuPngFile = dataDir.resolve("sweep-cpu.png");
        try {
            Files.createDirectories(dataDir);
            Files.writeString(csvFile, csv);
            BenchChart.writeSweep(pngFile, last, byEngine, "IOPS", EngineResult::iops);
            BenchChart.writeSweep(cpuPngFile, last, byEngine, "CPU µs per request", EngineResult::cpuMicrosPerOp);
        } catch (IOException e) {
            throw new BenchFailure("cannot write " + csvFile + " or " + pngFile + ": " + e.getMessage());
        }
        Progress.say("wrote " + csvFile + ", " + pngFile + " and " + cpuPngFile);
        if (!options.json()) {
            System.out.print(matrix(last, options.qdList(), byEngine));
            if (warning != null) {
                System.out.println(warning);
            }
        }
        return allRan ? 0 : 1;
    }

    /** IOPS by engine (rows) and queue depth (columns). */
    private static String matrix(RunSpec spec, List<Integer> qds, Map<String, Map<Integer, EngineResult>> byEngine) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "IOPS by queue depth: %s bs=%d %s, %.1f s per point%n",
                spec.workload().id(), spec.bs(), spec.direct() ? "O_DIRECT" : "buffered", spec.measureNanos() / 1e9));
        sb.append(String.format(Locale.ROOT, "%-22s", "engine \\ qd"));
        for (int qd : qds) {
            sb.append(String.format(Locale.ROOT, " %9d", qd));
        }
        sb.append('\n');
        for (Map.Entry<String, Map<Integer, EngineResult>> e : byEngine.entrySet()) {
            sb.append(String.format(Locale.ROOT, "%-22s", e.getKey()));
            for (int qd : qds) {
                EngineResult r = e.getValue().get(qd);
                sb.append(r == null ? String.format(Locale.ROOT, " %9s", "-")
                        : String.format(Locale.ROOT, " %9.0f", r.iops()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
