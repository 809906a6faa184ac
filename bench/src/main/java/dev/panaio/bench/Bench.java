package dev.panaio.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The entry point of {@code scripts/bench}: runs one workload on each engine,
 * side by side in one process, and prints a table (or JSON lines), the path
 * of a chart of the run, and a one-line verdict.
 *
 * <p>Exit status: 0 when every engine ran; 1 when the file cannot be used or
 * an engine failed; 2 for a bad command line.
 */
public final class Bench {
    private Bench() {
    }

    /** Where the data file, the sweep's CSV and chart go; scripts/bench points it at target/bench. */
    static final String DIR_PROPERTY = "panaio.bench.dir";

    public static void main(String[] args) throws InterruptedException {
        System.exit(run(args));
    }

    static int run(String[] args) throws InterruptedException {
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (BenchOptions.UsageException e) {
            System.err.println("scripts/bench: " + e.getMessage());
            System.err.print(BenchOptions.usage());
            return 2;
        }
        if (options == null) {
            System.out.print(BenchOptions.usage());
            return 0;
        }
        Path dataDir = Path.of(System.getProperty(DIR_PROPERTY, "target/bench")).toAbsolutePath();
        for (String name : options.engines()) {
            if (!Engines.byName(name).supports(options.workload())) {
                System.err.println("scripts/bench: engine '" + name + "' does not run " + options.workload().id()
                        + ": the engines that do are " + String.join(", ", Engines.all().stream()
                        .filter(e -> e.supports(options.workload())).map(Engine::name).toList()));
                System.err.print(BenchOptions.usage());
                return 2;
            }
        }
        List<Engine> engines = engines(options);
        try {
            if (options.sweep()) {
                return Sweep.run(options, engines, dataDir);
            }
            RunSpec spec = BenchTarget.prepare(options, options.qd(), dataDir);
            String warning = BenchTarget.directIoWarning(spec);
            if (warning != null) {
                Progress.say(warning);
            }
            if (options.rounds() > 1) {
                return runRounds(spec, engines, options, dataDir, warning);
            }
            List<Results.Row> rows = runAll(spec, engines);
            print(spec, rows, options.json());
            // Under --json, stdout holds nothing but the JSON lines: the chart and the verdict go to stderr.
            PrintStream out = options.json() ? System.err : System.out;
            if (warning != null) {
                out.println(warning);
            }
            String chart = writeRunChart(spec, rows, dataDir.resolve(RUN_CHART));
            if (chart != null) {
                out.println(chart);
            }
            out.println(Results.verdict(spec.workload(), rows));
            out.flush();
            return rows.stream().allMatch(r -> r.result() != null) ? 0 : 1;
        } catch (BenchFailure e) {
            System.err.println("scripts/bench: " + e.getMessage());
            return 1;
        }
    }

    /**
     * {@code --rounds}: every engine once a round, the order rotated each
     * round; each round's table (or JSON rows, with their round), then the
     * medians, a chart of them and the verdict ({@link Rounds}).
     */
    private static int runRounds(RunSpec spec, List<Engine> engines, BenchOptions options, Path dataDir,
                                 String warning) throws InterruptedException, BenchFailure {
        int n = options.rounds();
        List<List<Results.Row>> rounds = new ArrayList<>();
        for (int round = 0; round < n; round++) {
            List<Engine> order = Rounds.order(engines, round);
            Progress.say(String.format(Locale.ROOT, "round %d of %d: %s", round + 1, n,
                    String.join(", ", order.stream().map(Engine::name).toList())));
            List<Results.Row> rows = runAll(spec, order);
            rounds.add(rows);
            if (options.json()) {
                EngineResult base = Results.baseline(rows);
                for (Results.Row row : rows) {
                    System.out.println(Results.jsonLine(spec, row.engine(), row.result(), row.error(), base,
                            round + 1, n));
                }
            } else {
                System.out.printf(Locale.ROOT, "round %d of %d%n", round + 1, n);
                System.out.print(Results.table(spec, rows));
                System.out.println();
            }
            System.out.flush();
        }
        List<Rounds.Summary> summaries = Rounds.summarise(engines, rounds);
        if (options.json()) {
            for (Rounds.Summary s : summaries) {
                System.out.println(Rounds.jsonLine(spec, n, s));
            }
        } else {
            System.out.print(Rounds.table(spec, n, summaries));
        }
        System.out.flush();
        PrintStream out = options.json() ? System.err : System.out;
        if (warning != null) {
            out.println(warning);
        }
        List<Results.Row> medians = summaries.stream().filter(s -> s.completed() > 0)
                .map(s -> new Results.Row(s.engine(), s.asResult(), null)).toList();
        String chart = writeRunChart(spec, medians, dataDir.resolve(RUN_CHART));
        if (chart != null) {
            out.println(chart + ", the medians of the rounds");
        }
        out.println(Rounds.verdict(spec.workload(), summaries, rounds));
        out.flush();
        return rounds.stream().flatMap(List::stream).allMatch(r -> r.result() != null) ? 0 : 1;
    }

    /**
     * The engines asked for; by default every engine that runs the workload
     * and can run here, saying which cannot and why.
     */
    static List<Engine> engines(BenchOptions options) {
        if (!options.engines().isEmpty()) {
            return options.engines().stream().map(Engines::byName).toList();
        }
        List<Engine> available = new ArrayList<>();
        for (Engine engine : Engines.all()) {
            if (!engine.supports(options.workload())) {
                continue;
            }
            String reason = engine.unavailableReason();
            if (reason == null) {
                available.add(engine);
            } else {
                Progress.say("skipping " + engine.name() + ": " + reason);
            }
        }
        return available;
    }

    /** The chart of the last single run, in the data directory. */
    static final String RUN_CHART = "run.png";

    /** Draws the run into {@code png}; returns the line that says where, or null when nothing completed. */
    private static String writeRunChart(RunSpec spec, List<Results.Row> rows, Path png) {
        if (rows.stream().noneMatch(r -> r.result() != null && r.result().ops() > 0)) {
            return null;
        }
        try {
            Files.createDirectories(png.getParent());
            BenchChart.writeRun(png, spec, rows);
            return "chart: " + png + " (IOPS and CPU per request of every engine)";
        } catch (IOException | RuntimeException | LinkageError e) {
            // The figures are printed already; a machine without fonts or AWT libraries only loses the picture.
            return "chart: not written: cannot draw " + png + ": " + e;
        }
    }

    /** Runs each engine in turn; a failing engine gets a row naming its failure, and the others still run. */
    static List<Results.Row> runAll(RunSpec spec, List<Engine> engines) throws InterruptedException, BenchFailure {
        Progress.say(spec.describe());
        List<Results.Row> rows = new ArrayList<>();
        try {
            for (Engine engine : engines) {
                rows.add(runOne(spec, engine));
            }
        } finally {
            BenchTarget.endStream(spec);
        }
        return rows;
    }

    /**
     * One engine's run. It starts with no large writeback in progress
     * ({@link Writeback}). Append and wal start from the same place for every
     * engine; a buffered run on a data file is watched in the page cache (and
     * for --uncached, evicted from it) from just before the engine starts.
     */
    private static Results.Row runOne(RunSpec spec, Engine engine) throws InterruptedException, BenchFailure {
        String reason = engine.unavailableReason();
        if (reason != null) {
            Progress.say("scripts/bench: " + engine.name() + ": " + reason);
            return new Results.Row(engine.name(), null, reason);
        }
        String caveat = engine.caveat(spec);
        if (caveat != null) {
            Progress.say("  note: " + caveat);
        }
        try {
            Writeback.settle(engine.name());
            warmUpJit(engine, spec);
            BenchTarget.restartStream(spec);
            EngineResult result;
            if (!spec.direct() && spec.workload().usesDataFile()) {
                PageCacheWatch watch = startWatch(spec);
                try {
                    result = engine.run(spec);
                } finally {
                    watch.close();
                }
                result = result.withPageCache(watch.summary());
                Progress.say("  " + engine.name() + ": " + PageCacheWatch.describe(result.pageCache()));
            } else {
                result = engine.run(spec);
            }
            Progress.say(String.format(Locale.ROOT, "  %s: %,.0f %s", engine.name(), result.iops(),
                    spec.workload() == Workload.WAL ? "durable records/s" : "IOPS"));
            return new Results.Row(engine.name(), result, null);
        } catch (EngineException e) {
            Progress.say("scripts/bench: " + engine.name() + ": " + e.getMessage());
            return new Results.Row(engine.name(), null, e.getMessage());
        } catch (RuntimeException e) {
            // A bug in an engine or the harness: keep the trace, and let the other engines run.
            Progress.say("scripts/bench: " + engine.name() + " failed unexpectedly:");
            e.printStackTrace();
            return new Results.Row(engine.name(), null, e.toString());
        }
    }

    private static PageCacheWatch startWatch(RunSpec spec) throws BenchFailure {
        try {
            return PageCacheWatch.start(spec.file(), spec.fileSize(), spec.uncached());
        } catch (IOException e) {
            throw new BenchFailure("cannot watch " + spec.file() + " in the page cache: " + e.getMessage());
        }
    }

    private static final Set<String> JIT_WARMED = new HashSet<>();
    private static final long JIT_WARMUP_NANOS = 500_000_000L;

    /** Once per engine and process: an unmeasured run on /dev/zero, which gets the engine's code compiled fast. */
    private static void warmUpJit(Engine engine, RunSpec spec) throws EngineException, InterruptedException {
        if (!engine.runsInThisJvm() || !engine.supports(Workload.NULLREAD) || spec.warmupNanos() == 0
                || !JIT_WARMED.add(engine.name())) {
            return;
        }
        Progress.say(String.format(Locale.ROOT, "  %s: JIT warm-up, %.1f s of nullread (not measured)",
                engine.name(), JIT_WARMUP_NANOS / 1e9));
        Progress.mute(true);
        try {
            engine.run(new RunSpec(Workload.NULLREAD, Path.of(Workload.DEV_ZERO), 0, 4096, Math.min(spec.qd(), 32),
                    false, 0, JIT_WARMUP_NANOS, 4096, spec.batch()));
        } finally {
            Progress.mute(false);
        }
    }

    static void print(RunSpec spec, List<Results.Row> rows, boolean json) {
        if (json) {
            EngineResult base = Results.baseline(rows);
            for (Results.Row row : rows) {
                System.out.println(Results.jsonLine(spec, row.engine(), row.result(), row.error(), base));
            }
        } else {
            System.out.print(Results.table(spec, rows));
        }
        System.out.flush();
    }
}
