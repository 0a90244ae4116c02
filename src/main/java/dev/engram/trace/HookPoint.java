package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import dev.engram.runtime.ModelConfig;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A trace's hook points by their TransformerLens names, the one place that maps a name to what a {@link Trace}
 * records, its axes and its size: {@code hook_embed} (h^0), {@code blocks.l.hook_resid_pre}, {@code
 * blocks.l.hook_resid_mid}, {@code blocks.l.hook_resid_post}, {@code blocks.l.attn.hook_pattern} (α^l, [head, query,
 * source]), {@code blocks.l.attn.hook_v} ([head, source, d_head], key/value heads repeated under GQA), {@code
 * blocks.l.mlp.hook_post} (m^l) and {@code ln_final.hook_normalized}. Positions select the query axis (the first
 * position axis); the others are whole.
 *
 * @param name  the TransformerLens name
 * @param kind  what it reads
 * @param layer the block (−1 for hook_embed and ln_final)
 */
public record HookPoint(String name, Kind kind, int layer) {
    public enum Kind {
        EMBED, RESID_PRE, RESID_MID, RESID_POST, PATTERN, VALUE, MLP_POST, FINAL_NORMED
    }

    private static final Pattern BLOCK = Pattern.compile(
            "blocks\\.(\\d+)\\.(hook_resid_pre|hook_resid_mid|hook_resid_post|attn\\.hook_pattern|attn\\.hook_v|"
                    + "mlp\\.hook_post)");

    /** Every name this engine records, for messages. */
    public static final List<String> NAMES = List.of("hook_embed", "blocks.<l>.hook_resid_pre",
            "blocks.<l>.hook_resid_mid", "blocks.<l>.hook_resid_post", "blocks.<l>.attn.hook_pattern",
            "blocks.<l>.attn.hook_v", "blocks.<l>.mlp.hook_post", "ln_final.hook_normalized");

    /**
     * The hook point called {@code name} in a model of {@code config}.
     *
     * @throws IllegalArgumentException for a name it does not record, or a block the model does not have
     */
    public static HookPoint parse(String name, ModelConfig config) {
        if (name.equals("hook_embed")) {
            return new HookPoint(name, Kind.EMBED, -1);
        }
        if (name.equals("ln_final.hook_normalized")) {
            return new HookPoint(name, Kind.FINAL_NORMED, -1);
        }
        Matcher m = BLOCK.matcher(name);
        if (!m.matches()) {
            throw new IllegalArgumentException("unknown hook point '" + name + "'; known: " + String.join(", ", NAMES));
        }
        int layer = Integer.parseInt(m.group(1));
        if (layer >= config.nLayers()) {
            throw new IllegalArgumentException("'" + name + "': the model has blocks 0.." + (config.nLayers() - 1));
        }
        Kind kind = switch (m.group(2)) {
            case "hook_resid_pre" -> Kind.RESID_PRE;
            case "hook_resid_mid" -> Kind.RESID_MID;
            case "hook_resid_post" -> Kind.RESID_POST;
            case "attn.hook_pattern" -> Kind.PATTERN;
            case "attn.hook_v" -> Kind.VALUE;
            default -> Kind.MLP_POST;
        };
        return new HookPoint(name, kind, layer);
    }

    /** The axes of what it gives, with {@code positions} the selected positions' count. */
    public List<String> axes() {
        return switch (kind) {
            case PATTERN -> List.of("head", "query", "source");
            case VALUE -> List.of("head", "source", "d_head");
            case MLP_POST -> List.of("position", "neuron");
            default -> List.of("position", "d_model");
        };
    }

    /** Its shape for {@code positions} selected positions of a {@code tokens}-token prompt. */
    public long[] shape(ModelConfig config, int positions, int tokens) {
        return switch (kind) {
            case PATTERN -> new long[] {config.nHeads(), positions, tokens};
            case VALUE -> new long[] {config.nHeads(), tokens, config.headDim()};
            case MLP_POST -> new long[] {positions, config.dFfn()};
            default -> new long[] {positions, config.dModel()};
        };
    }

    /** Its values in {@code trace} at {@code positions} (the query axis), row-major in {@link #shape}'s order. */
    public float[] read(Trace trace, int[] positions) {
        NDArray all = switch (kind) {
            case EMBED -> trace.embedding();
            case RESID_PRE -> trace.residPre(layer);
            case RESID_MID -> trace.residMid(layer);
            case RESID_POST -> trace.residPost(layer);
            case PATTERN -> trace.pattern(layer);
            case VALUE -> trace.value(layer);
            case MLP_POST -> trace.ffnCoefficients(layer);
            case FINAL_NORMED -> trace.finalNormed();
        };
        float[] values = all.toFloatArray();
        long[] full = all.getShape().getShape();
        if (kind == Kind.VALUE) {
            return values;
        }
        // T-first [T, w]: one row a position; a pattern [H, T, T]: one query row a head and position
        int heads = kind == Kind.PATTERN ? (int) full[0] : 1;
        int rows = (int) full[kind == Kind.PATTERN ? 1 : 0];
        int width = (int) full[full.length - 1];
        float[] out = new float[heads * positions.length * width];
        int at = 0;
        for (int h = 0; h < heads; h++) {
            for (int p : positions) {
                System.arraycopy(values, (h * rows + p) * width, out, at, width);
                at += width;
            }
        }
        return out;
    }
}
