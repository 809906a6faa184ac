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
        return json(spec, engine, r, error, baseline).toString();
    }

    /** As {@link #jsonLine}, for round {@code round} (from 1) of {@code rounds} (--rounds). */
    static String jsonLine(RunSpec spec, String engine, EngineResult r, String error, EngineResult baseline,
                           int round, int rounds) {
        return json(spec, engine, r, error, baseline).put("round", round).put("rounds", rounds).toString();
    }

    private static ObjectNode json(RunSpec spec, String engine, EngineResult r, String error,
                                   EngineResult baseline) {
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
            return o;
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
        if (r.schedulerWait().runQueueNanos() >= 0) {
            o.put("run_queue_wait_s", round(r.schedulerWait().runQueueNanos() / 1e9, 4));
        }
        if (r.schedulerWait().threadRuns() >= 0 && r.ops() > 0) {
            o.put("thread_runs_per_op", round((double) r.schedulerWait().threadRuns() / r.ops(), 3));
        }
        if (r.schedulerWait().stealTicks() >= 0) {
            o.put("steal_ticks", r.schedulerWait().stealTicks());
        }
        JitCompilers.Summary jit = r.schedulerWait().jit();
        if (jit.settleNanos() >= 0) {
            o.put("jit_settle_s", round(jit.settleNanos() / 1e9, 1));
            o.put("jit_settled", jit.settled());
            o.put("jit_quiet_requests", jit.quietRequests());
        }
        if (jit.windowCpuNanos() >= 0) {
            o.put("jit_cpu_s", round(jit.windowCpuNanos() / 1e9, 4));
        }
        GcPauses.Summary gc = r.schedulerWait().gcPauses();
        if (gc.known()) {
            o.put("gc_pauses", gc.count());
            o.put("gc_pause_ms", gc.totalMillis());
            o.put("gc_pause_max_ms", gc.longestMillis());
        }
        StallTrace.Summary trace = r.stallTrace();
        if (trace != null) {
            ObjectNode t = o.putObject("stall_trace");
            t.put("probe_ns_mean", round(trace.probeMeanNanos(), 1));
            t.put("cpu_bias_ns_mean", round(trace.cpuBiasMeanNanos(), 1));
            t.put("untraced_calls", trace.untraced());
            bucketJson(t.putObject("all_calls"), trace.all());
            bucketJson(t.putObject("over_20us"), trace.slow());
            bucketJson(t.putObject("over_1ms"), trace.verySlow());
            var calls = t.putArray("over_1ms_kept");
            GcPauses.Summary gcPauses = r.schedulerWait().gcPauses();
            for (StallTrace.SlowCall c : trace.verySlowCalls()) {
                ObjectNode call = calls.addObject().put("start_ns", c.startNanos()).put("end_ns", c.endNanos())
                        .put("run_queue_us", round(c.runQueueNanos() / 1e3, 1))
                        .put("on_cpu_us", round(c.cpuNanos() / 1e3, 1));
                if (gcPauses.known()) {
                    call.put("gc_pause", gcPauses.overlaps(c.startNanos(), c.endNanos()));
                }
            }
        }
        if (spec.workload() == Workload.WAL) {
            o.put("durable_records_per_s", round(r.iops(), 1));
        }
        if (!spec.direct() && spec.reads() && Double.isFinite(r.hitRatio(spec.bs()))) {
            o.put("hit_ratio", round(r.hitRatio(spec.bs()), 4));
            o.put("storage_read_bytes", r.storageReadBytes());
        }
        PageCacheWatch.Summary cache = r.pageCache();
        if (cache != null) {
            o.put("uncached", spec.uncached());
            o.put("resident_mean_pct", round(cache.residentMean() * 100, 3));
            o.put("resident_max_pct", round(cache.residentMax() * 100, 3));
            if (cache.dirtyMaxPages() >= 0) {
                o.put("dirty_max_mib", round(cache.dirtyMaxPages() * 4096 / 1048576.0, 1));
                o.put("writeback_max_mib", round(cache.writebackMaxPages() * 4096 / 1048576.0, 1));
            }
            o.put("evictions", cache.evictions());
            o.put("watch_samples", cache.samples());
            o.put("watch_cpu_s", round(cache.threadCpuNanos() / 1e9, 4));
            o.put("page_cache_source", cache.source());
        }
        if (r.note() != null) {
            o.put("note", r.note());
        }
        if (baseline != null && baseline.iops() > 0) {
            o.put("iops_x_panaio", round(r.iops() / baseline.iops(), 3));
            o.put("cpu_per_op_x_panaio", round(r.cpuMicrosPerOp() / baseline.cpuMicrosPerOp(), 3));
        }
        return o;
    }

    private static void bucketJson(ObjectNode o, StallTrace.Bucket b) {
        o.put("calls", b.calls);
        o.put("wall_ms", round(b.wallNanos / 1e6, 3));
        o.put("run_queue_ms", round(b.runQueueNanos / 1e6, 3));
        o.put("on_cpu_ms", round(b.cpuNanos / 1e6, 3));
        o.put("other_ms", round(b.otherNanos() / 1e6, 3));
        o.put("switched_calls", b.switched);
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
        boolean wal = spec.workload() == Workload.WAL;
        if (wal) {
            sb.append(String.format(Locale.ROOT, "wal: IOPS are durable records per second, latencies are commit "
                    + "latencies (write to durable), CPU per op is per durable record%n"));
        }
        sb.append(String.format(Locale.ROOT, "%-22s %10s %9s %9s %9s %9s %10s %9s %9s%n", "engine",
                wal ? "records/s" : "IOPS", "MiB/s", "p50 µs", "p99 µs", "p99.9 µs", "CPU µs/op", "IOPS", "CPU/op"));
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
        for (Row row : rows) {
            if (row.result() != null && row.result().note() != null) {
                sb.append(String.format(Locale.ROOT, "note: %s: %s%n", row.engine(), row.result().note()));
            }
        }
        if (rows.stream().anyMatch(row -> row.result() != null && Double.isFinite(row.result().submitP999Us()))) {
            sb.append(String.format(Locale.ROOT, "%nTime the submitting thread spent inside the submitting call "
                    + "(for thread-per-request engines, the whole blocking call):%n"));
            sb.append(String.format(Locale.ROOT, "%-22s %12s %12s %16s %12s %12s %16s%n", "engine", "p99.9 µs",
                    "max µs", "run-queue wait", "runs/op", "steal", "GC pauses"));
            for (Row row : rows) {
                EngineResult r = row.result();
                if (r != null && Double.isFinite(r.submitP999Us())) {
                    SchedulerWait w = r.schedulerWait();
                    GcPauses.Summary gc = w.gcPauses();
                    sb.append(String.format(Locale.ROOT, "%-22s %12.1f %12.1f %16s %12s %12s %16s%n", row.engine(),
                            r.submitP999Us(), r.submitMaxUs(),
                            w.runQueueNanos() < 0 ? "-" : String.format(Locale.ROOT, "%.3f s", w.runQueueNanos() / 1e9),
                            w.threadRuns() < 0 || r.ops() == 0 ? "-"
                                    : String.format(Locale.ROOT, "%.2f", (double) w.threadRuns() / r.ops()),
                            w.stealTicks() < 0 ? "-" : w.stealTicks() + " ticks",
                            !gc.known() ? "-" : gc.count() == 0 ? "0"
                                    : String.format(Locale.ROOT, "%d, max %d ms", gc.count(), gc.longestMillis())));
                }
            }
            sb.append(String.format(Locale.ROOT, "(run-queue wait: the time the process's threads spent runnable "
                    + "but not running during the window, summed (/proc/self/task/*/schedstat); runs/op: times the "
                    + "process's threads were put on a CPU (a wake-up, or a return after preemption; same file), per "
                    + "request; steal: CPU time the hypervisor took from the machine, in clock ticks (/proc/stat); "
                    + "GC pauses: the garbage collector's stops of every Java thread in the window, and the longest, "
                    + "to the millisecond)%n"));
        }
        if (rows.stream().anyMatch(row -> row.result() != null && row.result().stallTrace() != null)) {
            sb.append(stallTraceTable(rows));
        }
        if (rows.stream().anyMatch(row -> row.result() != null && row.result().pageCache() != null)) {
            sb.append(pageCacheTable(spec, rows));
        }
        return sb.toString();
    }

    /** --stall-trace: where the slow submitting calls' time went. */
    private static String stallTraceTable(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nWhere the submitting calls' time went (--stall-trace; shares of the "
                + "calls' summed time):%n"));
        sb.append(String.format(Locale.ROOT, "%-22s %-8s %10s %11s %11s %9s %9s %10s%n", "engine", "calls",
                "count", "time ms", "run queue", "on CPU", "other", "switched"));
        for (Row row : rows) {
            EngineResult r = row.result();
            if (r == null || r.stallTrace() == null) {
                continue;
            }
            StallTrace.Summary t = r.stallTrace();
            String[] names = {"all", "> 20 µs", "> 1 ms"};
            StallTrace.Bucket[] buckets = {t.all(), t.slow(), t.verySlow()};
            for (int i = 0; i < names.length; i++) {
                StallTrace.Bucket b = buckets[i];
                sb.append(String.format(Locale.ROOT, "%-22s %-8s %,10d %11.1f %11s %9s %9s %10s%n",
                        i == 0 ? row.engine() : "", names[i], b.calls, b.wallNanos / 1e6,
                        share(b.runQueueNanos, b.wallNanos), share(b.cpuNanos, b.wallNanos),
                        share(b.otherNanos(), b.wallNanos), b.calls == 0 ? "-"
                                : String.format(Locale.ROOT, "%d", b.switched)));
            }
            if (!t.verySlowCalls().isEmpty() && r.schedulerWait().gcPauses().known()) {
                GcPauses.Summary gc = r.schedulerWait().gcPauses();
                long inPause = t.verySlowCalls().stream().filter(c -> gc.overlaps(c.startNanos(), c.endNanos()))
                        .count();
                sb.append(String.format(Locale.ROOT, "%-22s of the %d calls over 1 ms kept, %d overlapped a GC "
                        + "pause%n", "", t.verySlowCalls().size(), inPause));
            }
            sb.append(String.format(Locale.ROOT, "%-22s reading the thread's clocks: %.0f ns each, twice a call "
                    + "(outside the timed call; %.0f ns of CPU a pair, taken off each call's)%s%n", "",
                    t.probeMeanNanos(), t.cpuBiasMeanNanos(),
                    t.untraced() > 0 ? "; " + t.untraced() + " calls untraced" : ""));
        }
        sb.append(String.format(Locale.ROOT, "(run queue: runnable, waiting for a CPU (schedstat); on CPU: "
                + "CLOCK_THREAD_CPUTIME_ID; other: blocked or sleeping in the kernel, or CPU stolen by the "
                + "hypervisor; switched: calls during which the thread left its CPU)%n"));
        return sb.toString();
    }

    private static String share(long part, long whole) {
        return whole > 0 ? String.format(Locale.ROOT, "%.1f %%", 100.0 * part / whole) : "-";
    }

    /** The page cache during buffered runs: the hit ratio reads saw, and what the cache held of the file. */
    private static String pageCacheTable(RunSpec spec, List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nPage cache%s (hit ratio: 1 - bytes read from storage / bytes read, "
                + "from /proc/self/io; resident: sampled every %d ms or less often, as a sample's cost allows%s):%n",
                spec.uncached() ? ", evicted before and during each run" : "", PageCacheWatch.PERIOD_MILLIS,
                spec.uncached() ? ", before an eviction" : ""));
        sb.append(String.format(Locale.ROOT, "%-22s %10s %11s %11s %11s %11s%n", "engine", "hit ratio",
                "resident %", "max res. %", "dirty MiB", "wb MiB"));
        for (Row row : rows) {
            EngineResult r = row.result();
            if (r == null || r.pageCache() == null) {
                continue;
            }
            PageCacheWatch.Summary c = r.pageCache();
            double hit = spec.reads() ? r.hitRatio(spec.bs()) : Double.NaN;
            sb.append(String.format(Locale.ROOT, "%-22s %10s %11.2f %11.2f %11s %11s%n", row.engine(),
                    Double.isFinite(hit) ? String.format(Locale.ROOT, "%.4f", hit) : "-",
                    c.residentMean() * 100, c.residentMax() * 100,
                    c.dirtyMaxPages() >= 0 ? String.format(Locale.ROOT, "%.1f", c.dirtyMaxPages() / 256.0) : "-",
                    c.writebackMaxPages() >= 0 ? String.format(Locale.ROOT, "%.1f", c.writebackMaxPages() / 256.0)
                            : "-"));
        }
        sb.append(String.format(Locale.ROOT, "(page cache figures by %s; the hit ratio is unknown (-) for engines "
                + "in other processes and for writes)%n", rows.stream().map(Row::result)
                .filter(r -> r != null && r.pageCache() != null).map(r -> r.pageCache().source()).findFirst()
                .orElse("-")));
        return sb.toString();
    }

    /**
     * The one-line verdict: panaio against the peer with the most IOPS (see
     * {@link Engine#isPeer}), in IOPS and in CPU time per request, each ratio
     * saying which way is better.
     */
    static String verdict(Workload workload, List<Row> rows) {
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
        boolean wal = workload == Workload.WAL;
        return String.format(Locale.ROOT, "verdict: panaio did %.2fx the %s of the best peer, %s (higher is "
                        + "better), at %.2fx its CPU time per %s (lower is better)",
                panaio.iops() / best.result().iops(), wal ? "durable records per second" : "IOPS", best.engine(),
                panaio.cpuMicrosPerOp() / best.result().cpuMicrosPerOp(), wal ? "record" : "request");
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
