package dev.engram.attribution;

import java.util.Locale;

/**
 * The paper's two views of an attribution as standalone SVG: layer × {attention, FFN} log-probability increase
 * as grouped bars, and the layer × head heat map (red raises the target, blue lowers it).
 */
public final class AttributionCharts {
    public static final int BAR_CHART_WIDTH = 760;
    public static final int BAR_CHART_HEIGHT = 360;
    public static final int CELL = 22;
    private static final int MARGIN_LEFT = 70;
    private static final int MARGIN_TOP = 50;
    private static final int MARGIN_BOTTOM = 50;
    private static final String ATTENTION_COLOUR = "#4c72b0";
    private static final String FFN_COLOUR = "#dd8452";

    private AttributionCharts() {
    }

    public static String layerScores(double[] attention, double[] ffn, String title) {
        int layers = attention.length;
        double max = 1e-9;
        for (int l = 0; l < layers; l++) {
            max = Math.max(max, Math.max(Math.abs(attention[l]), Math.abs(ffn[l])));
        }
        double plotWidth = BAR_CHART_WIDTH - MARGIN_LEFT - 20.0;
        double plotHeight = BAR_CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
        double zeroY = MARGIN_TOP + plotHeight / 2;
        double group = plotWidth / layers;
        double bar = Math.max(1, group * 0.4);
        StringBuilder svg = header(BAR_CHART_WIDTH, BAR_CHART_HEIGHT, title);
        svg.append(line(MARGIN_LEFT, zeroY, BAR_CHART_WIDTH - 20, zeroY));
        for (int l = 0; l < layers; l++) {
            double x = MARGIN_LEFT + l * group + group * 0.1;
            svg.append(bar(x, zeroY, bar, attention[l] / max * plotHeight / 2, ATTENTION_COLOUR, "attention", l,
                    attention[l]));
            svg.append(bar(x + bar, zeroY, bar, ffn[l] / max * plotHeight / 2, FFN_COLOUR, "ffn", l, ffn[l]));
            if (layers <= 40 || l % 5 == 0) {
                svg.append(text(x + bar, BAR_CHART_HEIGHT - MARGIN_BOTTOM + 18, String.valueOf(l), "middle"));
            }
        }
        svg.append(text(MARGIN_LEFT - 8, MARGIN_TOP + 4, format(max), "end"));
        svg.append(text(MARGIN_LEFT - 8, zeroY + 4, "0", "end"));
        svg.append(text(MARGIN_LEFT - 8, MARGIN_TOP + plotHeight + 4, format(-max), "end"));
        svg.append(text(BAR_CHART_WIDTH / 2.0, BAR_CHART_HEIGHT - 10, "layer", "middle"));
        svg.append(legend(BAR_CHART_WIDTH - 220, 38));
        return svg.append("</svg>\n").toString();
    }

    public static int heatmapWidth(int heads) {
        return MARGIN_LEFT + heads * CELL + 20;
    }

    public static int heatmapHeight(int layers) {
        return MARGIN_TOP + layers * CELL + 40;
    }

    public static String headHeatmap(double[][] heads, String title) {
        int layers = heads.length;
        int nHeads = heads[0].length;
        double max = 1e-9;
        for (double[] row : heads) {
            for (double h : row) {
                max = Math.max(max, Math.abs(h));
            }
        }
        StringBuilder svg = header(heatmapWidth(nHeads), heatmapHeight(layers), title);
        for (int l = 0; l < layers; l++) {
            for (int j = 0; j < nHeads; j++) {
                svg.append(String.format(Locale.ROOT,
                        "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
                                + "<title>layer %d head %d: %s</title></rect>%n",
                        MARGIN_LEFT + j * CELL, MARGIN_TOP + l * CELL, CELL, CELL, diverging(heads[l][j] / max), l, j,
                        format(heads[l][j])));
            }
            svg.append(text(MARGIN_LEFT - 6, MARGIN_TOP + l * CELL + CELL * 0.7, "L" + l, "end"));
        }
        for (int j = 0; j < nHeads; j++) {
            svg.append(text(MARGIN_LEFT + j * CELL + CELL / 2.0, MARGIN_TOP - 6, String.valueOf(j), "middle"));
        }
        svg.append(text(MARGIN_LEFT + nHeads * CELL / 2.0, heatmapHeight(layers) - 12,
                "head (max |score| " + format(max) + ")", "middle"));
        return svg.append("</svg>\n").toString();
    }

    /** −1 → blue, 0 → white, +1 → red. */
    static String diverging(double v) {
        double a = Math.min(1, Math.abs(v));
        int fade = (int) Math.round(255 * (1 - a));
        return v >= 0 ? String.format("#ff%02x%02x", fade, fade) : String.format("#%02x%02xff", fade, fade);
    }

    private static StringBuilder header(int width, int height, String title) {
        return new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        + "font-family=\"sans-serif\" font-size=\"11\">%n<rect width=\"100%%\" height=\"100%%\" "
                        + "fill=\"white\"/>%n%s",
                width, height, width, height, text(width / 2.0, 20, title, "middle")));
    }

    private static String bar(double x, double zeroY, double width, double height, String colour, String kind,
            int layer, double value) {
        double top = height >= 0 ? zeroY - height : zeroY;
        return String.format(Locale.ROOT,
                "<rect class=\"bar %s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
                        + "<title>layer %d %s: %s</title></rect>%n",
                kind, x, top, width, Math.abs(height), colour, layer, kind, format(value));
    }

    private static String legend(double x, double y) {
        return String.format(Locale.ROOT, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                + "<text x=\"%.0f\" y=\"%.0f\">attention</text><rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" "
                + "fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">FFN</text>%n", x, y - 9, ATTENTION_COLOUR, x + 14, y,
                x + 90, y - 9, FFN_COLOUR, x + 104, y);
    }

    private static String line(double x1, double y1, double x2, double y2) {
        return String.format(Locale.ROOT, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333\"/>%n",
                x1, y1, x2, y2);
    }

    private static String text(double x, double y, String s, String anchor) {
        return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>%n", x, y, anchor,
                escape(s));
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
