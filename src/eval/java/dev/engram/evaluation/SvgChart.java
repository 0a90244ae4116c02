package dev.engram.evaluation;

import java.util.List;
import java.util.Locale;

/** Plain SVG charts for the evaluation reports: grouped horizontal bars and line plots. No dependencies. */
public final class SvgChart {
    private static final String[] COLOURS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
    private static final int WIDTH = 760;

    private SvgChart() {
    }

    /** One named series of values, one per label or x. */
    public record Series(String name, double[] values) {
    }

    /** Grouped horizontal bars: one row per label, one bar per series. */
    public static String bars(String title, List<String> labels, List<Series> series, String unit) {
        int left = 330;
        int barHeight = 9;
        int rowHeight = barHeight * series.size() + 8;
        int height = 60 + rowHeight * labels.size() + 20 * series.size();
        double max = series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.values())).map(Math::abs).max()
                .orElse(1);
        double min = Math.min(0, series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.values())).min()
                .orElse(0));
        double span = Math.max(1e-12, max - min);
        int plot = WIDTH - left - 60;
        StringBuilder svg = header(title, height);
        double zero = left + plot * (0 - min) / span;
        for (int i = 0; i < labels.size(); i++) {
            int y = 40 + i * rowHeight;
            svg.append(text(left - 8, y + rowHeight / 2 + 2, labels.get(i), "end"));
            for (int s = 0; s < series.size(); s++) {
                double v = series.get(s).values()[i];
                double x1 = zero;
                double x2 = left + plot * (v - min) / span;
                svg.append(String.format(Locale.ROOT,
                        "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n", Math.min(x1, x2),
                        y + s * barHeight, Math.abs(x2 - x1), barHeight - 1, COLOURS[s % COLOURS.length]));
                svg.append(text((int) Math.max(x1, x2) + 4, y + s * barHeight + barHeight - 2,
                        String.format(Locale.ROOT, "%.1f%s", v, unit), "start"));
            }
        }
        svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"36\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>%n",
                zero, zero, 40 + rowHeight * labels.size()));
        legend(svg, series, 50 + rowHeight * labels.size());
        return svg.append("</svg>\n").toString();
    }

    /** Lines over x = 0 .. n − 1 (or the given xs), one per series. */
    public static String lines(String title, String xLabel, double[] xs, List<Series> series) {
        int left = 60;
        int top = 40;
        int plotHeight = 260;
        int plotWidth = WIDTH - left - 30;
        int height = top + plotHeight + 50 + 20 * series.size();
        double lo = series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.values())).min().orElse(0);
        double hi = series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.values())).max().orElse(1);
        lo = Math.min(lo, 0);
        double span = Math.max(1e-12, hi - lo);
        double xMax = Math.max(1e-12, xs[xs.length - 1] - xs[0]);
        StringBuilder svg = header(title, height);
        svg.append(String.format(Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>%n", left, top,
                plotWidth, plotHeight));
        double zeroY = top + plotHeight - plotHeight * (0 - lo) / span;
        svg.append(String.format(Locale.ROOT,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#bbb\"/>%n", left, zeroY, left + plotWidth,
                zeroY));
        svg.append(text(left - 4, top + 8, String.format(Locale.ROOT, "%.2f", hi), "end"));
        svg.append(text(left - 4, top + plotHeight, String.format(Locale.ROOT, "%.2f", lo), "end"));
        svg.append(text(left, top + plotHeight + 16, String.format(Locale.ROOT, "%.0f", xs[0]), "start"));
        svg.append(text(left + plotWidth, top + plotHeight + 16, String.format(Locale.ROOT, "%.0f", xs[xs.length - 1]),
                "end"));
        svg.append(text(left + plotWidth / 2, top + plotHeight + 16, xLabel, "middle"));
        for (int s = 0; s < series.size(); s++) {
            StringBuilder points = new StringBuilder();
            double[] v = series.get(s).values();
            for (int i = 0; i < v.length; i++) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", left + plotWidth * (xs[i] - xs[0]) / xMax,
                        top + plotHeight - plotHeight * (v[i] - lo) / span));
            }
            svg.append(String.format(Locale.ROOT,
                    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                    COLOURS[s % COLOURS.length], points.toString().strip()));
        }
        legend(svg, series, top + plotHeight + 30);
        return svg.append("</svg>\n").toString();
    }

    private static StringBuilder header(String title, int height) {
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"11\">%n", WIDTH, height));
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\" "
                + "text-anchor=\"middle\">%s</text>%n", WIDTH / 2, escape(title)));
        return svg;
    }

    private static void legend(StringBuilder svg, List<Series> series, int y) {
        for (int s = 0; s < series.size(); s++) {
            svg.append(String.format(Locale.ROOT, "<rect x=\"60\" y=\"%d\" width=\"12\" height=\"10\" fill=\"%s\"/>%n",
                    y + 20 * s, COLOURS[s % COLOURS.length]));
            svg.append(text(78, y + 20 * s + 9, series.get(s).name(), "start"));
        }
    }

    private static String text(int x, int y, String text, String anchor) {
        return String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\">%s</text>%n", x, y, anchor,
                escape(text));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
