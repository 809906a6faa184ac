package dev.panaio.bench;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Paint;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The charts of scripts/bench: a sweep's metric against queue depth, one line
 * per engine, and one run's IOPS and CPU per request, one bar per engine.
 */
final class BenchChart {
    private BenchChart() {
    }

    /** Colours by engine, readable on white; engines not listed get JFreeChart's own (lines) or grey (bars). */
    private static final Map<String, Color> COLOURS = Map.of(
            "panaio", new Color(0xD62728),
            "panaio-async", new Color(0xE8726F),
            "panaio-vthreads", new Color(0xA31D1D),
            "filechannel", new Color(0x1F77B4),
            "filechannel-vthreads", new Color(0x2CA02C),
            "jdk-afc", new Color(0xFF7F0E),
            "fio", new Color(0x9467BD),
            "fio-uring", new Color(0xE377C2),
            "c-loop", new Color(0x555555),
            "c-handoff", new Color(0x999999));

    /** Writes the chart of {@code metric} ("IOPS" or "CPU µs per request") against queue depth. */
    static void writeSweep(Path png, RunSpec spec, Map<String, Map<Integer, EngineResult>> byEngine, String metric,
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

    /**
     * Writes one run as two bar charts over the same engines: IOPS above, CPU
     * time per request below. Engines that failed have no bar.
     */
    static void writeRun(Path png, RunSpec spec, List<Results.Row> rows) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset iops = new DefaultCategoryDataset();
        DefaultCategoryDataset cpu = new DefaultCategoryDataset();
        for (Results.Row row : rows) {
            if (row.result() != null && row.result().ops() > 0) {
                iops.addValue(row.result().iops(), "IOPS", row.engine());
                cpu.addValue(row.result().cpuMicrosPerOp(), "CPU µs per request", row.engine());
            }
        }
        CategoryAxis engines = new CategoryAxis("engine");
        engines.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        CombinedDomainCategoryPlot plot = new CombinedDomainCategoryPlot(engines);
        plot.setGap(12);
        plot.add(barPlot(iops, "IOPS (higher is better)", "#,##0"), 1);
        plot.add(barPlot(cpu, "CPU µs per request (lower is better)", "0.00"), 1);
        plot.setOrientation(PlotOrientation.VERTICAL);
        String title = String.format(Locale.ROOT, "%s, bs %d, qd %d, %s: %.1f s measured after %.1f s warm-up",
                spec.workload().id(), spec.bs(), spec.qd(), spec.direct() ? "O_DIRECT" : "buffered",
                spec.measureNanos() / 1e9, spec.warmupNanos() / 1e9);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 960, 720);
    }

    private static CategoryPlot barPlot(DefaultCategoryDataset data, String metric, String format) {
        BarRenderer renderer = new BarRenderer() {
            private static final long serialVersionUID = 1L;

            @Override
            public Paint getItemPaint(int row, int column) {
                return COLOURS.getOrDefault((String) data.getColumnKey(column), Color.GRAY);
            }
        };
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}",
                new DecimalFormat(format)));
        renderer.setDefaultItemLabelsVisible(true);
        NumberAxis y = new NumberAxis(metric);
        y.setAutoRangeIncludesZero(true);
        y.setUpperMargin(0.15); // room for the value above the tallest bar
        CategoryPlot plot = new CategoryPlot(data, null, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return plot;
    }
}
