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

/** Draws a sweep: IOPS against queue depth on a log2 axis, one line per engine. */
final class SweepChart {
    private SweepChart() {
    }

    static void write(Path png, RunSpec spec, Map<String, Map<Integer, EngineResult>> byEngine) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, Map<Integer, EngineResult>> e : byEngine.entrySet()) {
            XYSeries series = new XYSeries(e.getKey());
            e.getValue().forEach((qd, r) -> series.add((double) qd, r.iops()));
            if (!series.isEmpty()) {
                data.addSeries(series);
            }
        }
        LogAxis x = new LogAxis("queue depth (requests in flight; threads for thread-based engines)");
        x.setBase(2);
        x.setTickUnit(new NumberTickUnit(1, new DecimalFormat("0")));
        x.setNumberFormatOverride(new DecimalFormat("0"));
        x.setSmallestValue(1);
        NumberAxis y = new NumberAxis("IOPS");
        y.setAutoRangeIncludesZero(true);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        String title = String.format(Locale.ROOT, "%s, %d-byte requests, %s, %.1f s per point",
                spec.workload().id(), spec.bs(), spec.direct() ? "O_DIRECT" : "buffered", spec.measureNanos() / 1e9);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 960, 600);
    }
}
