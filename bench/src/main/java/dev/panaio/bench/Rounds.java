package dev.panaio.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * {@code --rounds N}: the engines run N times, interleaved, and each ratio is
 * taken within a round, then summarised by its median over the rounds.
 *
 * <p>Why: on this project's VM one engine's figures move by 15 % or more from
 * one second to the next with nothing else running (a C loop's CPU per request
 * over twelve 1 s runs back to back: 0.49 to 0.64 µs), so two engines measured
 * one after the other differ by as much as the host's drift between their
 * windows. Rounds put the engines' windows close together many times, the
 * order rotated each round so that no engine always runs first or last, and a
 * ratio taken within each round pairs windows of nearly the same time. The
 * median of those ratios, with their least and greatest, says how far a single
 * round could be trusted.
 */
final class Rounds {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Rounds() {
    }

    /** The engines in round {@code round}'s order (from 0): the list rotated left by the round's number. */
    static List<Engine> order(List<Engine> engines, int round) {
        List<Engine> order = new ArrayList<>(engines.size());
        for (int i = 0; i < engines.size(); i++) {
            order.add(engines.get((round + i) % engines.size()));
        }
        return order;
    }

    /** The median of {@code values} (the mean of the middle two for an even count); NaN for none. */
    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /**
     * One engine over the rounds: the median of each figure, and of each
     * ratio to panaio's figure in the same round, with the least and greatest
     * of those ratios. {@code completed} counts the rounds it completed
     * requests in; the ratios come from the rounds both it and panaio did.
     */
    record Summary(String engine, int completed, double iops, double cpuUsPerOp, double p50Us, double p99Us,
                   double p999Us, double[] iopsRatios, double[] cpuRatios) {
        double iopsRatio() {
            return median(iopsRatios);
        }

        double cpuRatio() {
            return median(cpuRatios);
        }

        /** As an EngineResult of one second, for the chart: the medians' IOPS and CPU per request. */
        EngineResult asResult() {
            long ops = Math.round(iops);
            return new EngineResult(engine, ops, 1, p50Us, p99Us, p999Us, cpuUsPerOp * ops / 1e6,
                    "median of " + completed + " rounds");
        }
    }

    /** Each engine's summary, in the order of {@code engines}; rounds are lists of rows in any order. */
    static List<Summary> summarise(List<Engine> engines, List<List<Results.Row>> rounds) {
        List<Summary> summaries = new ArrayList<>();
        for (Engine engine : engines) {
            List<EngineResult> own = new ArrayList<>();
            List<Double> iopsRatios = new ArrayList<>();
            List<Double> cpuRatios = new ArrayList<>();
            for (List<Results.Row> round : rounds) {
                EngineResult r = resultOf(round, engine.name());
                if (r == null) {
                    continue;
                }
                own.add(r);
                EngineResult base = Results.baseline(round);
                if (base != null) {
                    iopsRatios.add(r.iops() / base.iops());
                    cpuRatios.add(r.cpuMicrosPerOp() / base.cpuMicrosPerOp());
                }
            }
            summaries.add(new Summary(engine.name(), own.size(), median(own, EngineResult::iops),
                    median(own, EngineResult::cpuMicrosPerOp), median(own, EngineResult::p50Us),
                    median(own, EngineResult::p99Us), median(own, EngineResult::p999Us), toArray(iopsRatios),
                    toArray(cpuRatios)));
        }
        return summaries;
    }

    /** The engine's result in one round, when it completed requests. */
    private static EngineResult resultOf(List<Results.Row> round, String engine) {
        for (Results.Row row : round) {
            if (row.engine().equals(engine) && row.result() != null && row.result().ops() > 0) {
                return row.result();
            }
        }
        return null;
    }

    private static double median(List<EngineResult> results, ToDoubleFunction<EngineResult> figure) {
        return median(results.stream().mapToDouble(figure).toArray());
    }

    private static double[] toArray(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The table of medians, after the rounds' own tables. */
    static String table(RunSpec spec, int rounds, List<Summary> summaries) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nMedians of %d rounds (each ratio taken within a round, against "
                + "panaio's figure of that round; its least and greatest in brackets):%n", rounds));
        sb.append(String.format(Locale.ROOT, "%-22s %6s %10s %9s %10s %21s %21s%n", "engine", "rounds",
                spec.workload() == Workload.WAL ? "records/s" : "IOPS", "p50 µs", "CPU µs/op", "IOPS x panaio",
                "CPU/op x panaio"));
        for (Summary s : summaries) {
            if (s.completed() == 0) {
                sb.append(String.format(Locale.ROOT, "%-22s %6d completed nothing in any round%n", s.engine(), 0));
                continue;
            }
            sb.append(String.format(Locale.ROOT, "%-22s %6d %,10.0f %9.1f %10.3f %21s %21s%n", s.engine(),
                    s.completed(), s.iops(), s.p50Us(), s.cpuUsPerOp(), spread(s.iopsRatios()),
                    spread(s.cpuRatios())));
        }
        return sb.toString();
    }

    /** "0.93 [0.85-1.02]", or "-" when no round had both engines. */
    private static String spread(double[] ratios) {
        if (ratios.length == 0) {
            return "-";
        }
        double[] sorted = ratios.clone();
        Arrays.sort(sorted);
        return String.format(Locale.ROOT, "%.2f [%.2f-%.2f]", median(sorted), sorted[0], sorted[sorted.length - 1]);
    }

    /** One JSON line per engine: {@code "summary": true}, the medians, and the ratios' median, least and greatest. */
    static String jsonLine(RunSpec spec, int rounds, Summary s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("engine", s.engine());
        o.put("summary", true);
        o.put("rounds", rounds);
        o.put("rounds_completed", s.completed());
        o.put("workload", spec.workload().id());
        o.put("bs", spec.bs());
        o.put("qd", spec.qd());
        o.put("direct", spec.direct());
        if (s.completed() > 0) {
            o.put("iops", round(s.iops(), 1));
            o.put("cpu_us_per_op", round(s.cpuUsPerOp(), 4));
            o.put("p50_us", round(s.p50Us(), 2));
            o.put("p99_us", round(s.p99Us(), 2));
            o.put("p999_us", round(s.p999Us(), 2));
        }
        ratios(o, "iops_x_panaio", s.iopsRatios());
        ratios(o, "cpu_per_op_x_panaio", s.cpuRatios());
        return o.toString();
    }

    private static void ratios(ObjectNode o, String name, double[] values) {
        if (values.length == 0) {
            return;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        o.put(name, round(median(sorted), 3));
        o.put(name + "_min", round(sorted[0], 3));
        o.put(name + "_max", round(sorted[sorted.length - 1], 3));
        var each = o.putArray(name + "_rounds");
        for (double v : values) {
            each.add(round(v, 3));
        }
    }

    private static double round(double v, int places) {
        double scale = Math.pow(10, places);
        return Double.isFinite(v) ? Math.round(v * scale) / scale : 0;
    }

    /**
     * The verdict over the rounds: panaio against the peer with the highest
     * median IOPS, by the medians of the two ratios taken within each round
     * both completed.
     */
    static String verdict(Workload workload, List<Summary> summaries, List<List<Results.Row>> rounds) {
        Summary best = null;
        for (Summary s : summaries) {
            Engine engine = Engines.byName(s.engine());
            if (engine != null && engine.isPeer() && s.completed() > 0 && (best == null || s.iops() > best.iops())) {
                best = s;
            }
        }
        if (summaries.stream().noneMatch(s -> s.engine().equals("panaio") && s.completed() > 0)) {
            return "verdict: none: the panaio engine did not run or completed nothing";
        }
        if (best == null) {
            return "verdict: none: no peer ran to compare panaio with";
        }
        List<Double> iops = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        for (List<Results.Row> round : rounds) {
            EngineResult panaio = Results.baseline(round);
            EngineResult peer = resultOf(round, best.engine());
            if (panaio != null && peer != null) {
                iops.add(panaio.iops() / peer.iops());
                cpu.add(panaio.cpuMicrosPerOp() / peer.cpuMicrosPerOp());
            }
        }
        if (iops.isEmpty()) {
            return "verdict: none: panaio and " + best.engine() + " never completed requests in the same round";
        }
        boolean wal = workload == Workload.WAL;
        return String.format(Locale.ROOT, "verdict: over %d rounds, panaio did %sx the %s of the best peer, %s "
                        + "(higher is better), at %sx its CPU time per %s (lower is better); medians of the "
                        + "ratios within each round, least and greatest in brackets",
                iops.size(), spread(toArray(iops)), wal ? "durable records per second" : "IOPS", best.engine(),
                spread(toArray(cpu)), wal ? "record" : "request");
    }
}
