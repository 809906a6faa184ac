package dev.panaio.bench;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Draws a sweep: a metric against queue depth on a log2 axis, one line per engine. */
final class SweepChart {
    private SweepChart() {
    }

    /** Line colours by engine, readable on white; engines not listed get JFreeChart's own. */
    private static final Map<String, Color> COLOURS = Map.of(
            "panaio", new Color(0xD62728),
            "filechannel", new Color(0x1F77B4),
            "filechannel-vthreads", new Color(0x2CA02C),
            "jdk-afc", new Color(0xFF7F0E),
            "fio", new Color(0x9467BD),
            "fio-uring", new Color(0xE377C2),
            "c-loop", new Color(0x555555));

    /** Writes the chart of {@code metric} ("IOPS" or "CPU µs per request") against queue depth. */
    static void write(Path png, RunSpec spec, Map<String, Map<Integer, EngineResult>> byEngine, String metric,
                      ToDoubleFunction<EngineResult> value) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, Map<Integer, EngineResult>> e : byEngine.entrySet()) {
            XYSeries series = new XYSeries(e.getKey());
            e.getValue().forEach((qd, r) -> series.add((double) qd, value.applyAsDouble(r)));
            if (!series.isEmpty()) {
                data.addSeries(series);
            }
        }
        LogAxis x = new LogAxis("queue depth (requests in flight; threads for thread-based engines)");
        x.setBase(2);
        x.setTickUnit(new NumberTickUnit(1, new DecimalFormat("0")));
        x.setNumberFormatOverride(new DecimalFormat("0"));
        x.setSmallestValue(1);
        NumberAxis y = new NumberAxis(metric);
        y.setAutoRangeIncludesZero(true);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            String engine = (String) data.getSeriesKey(i);
            renderer.setSeriesStroke(i, new BasicStroke(engine.equals("panaio") ? 3.5f : 2f));
            Color colour = COLOURS.get(engine);
            if (colour != null) {
                renderer.setSeriesPaint(i, colour);
            }
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        String title = String.format(Locale.ROOT, "%s: %s, bs %d, %s, %.1f s per point",
                metric, spec.workload().id(), spec.bs(), spec.direct() ? "O_DIRECT" : "buffered", spec.measureNanos() / 1e9);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 960, 600);
    }
}
