package dev.engram.editing;

import ai.djl.ndarray.NDScope;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelWeights;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

/**
 * A fixed list of named entities, and the ones a model represents most like a given subject. A subject's
 * representation is the residual stream after the middle block at its last token, the subject read alone, less the
 * pool's mean representation (residual streams share a large common direction that would otherwise dominate every
 * cosine); similarity is the cosine. The pool's representations depend only on the base weights, so they are computed
 * once per base model, in one packed pass.
 */
public final class SubjectPool {
    private final List<String> subjects;
    private final Map<ModelWeights, float[][]> representations = Collections.synchronizedMap(new WeakHashMap<>());

    private SubjectPool(List<String> subjects) {
        this.subjects = List.copyOf(subjects);
    }

    /** The pool in resource {@code name} next to {@code anchor}: a subject a line, '#' comments. */
    public static SubjectPool read(Class<?> anchor, String name) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Objects.requireNonNull(
                anchor.getResourceAsStream(name), name), StandardCharsets.UTF_8))) {
            return new SubjectPool(in.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The subjects, in file order. */
    public List<String> subjects() {
        return subjects;
    }

    /**
     * The {@code count} pool subjects nearest to {@code subject} by cosine of their representations, nearest first,
     * leaving out the subject itself (ignoring case).
     */
    public List<String> nearest(Model model, String subject, int count) {
        float[][] pool = representations.computeIfAbsent(model.weights().base(), base -> represent(model, subjects));
        float[] mean = pool[pool.length - 1];
        float[] target = minus(represent(model, List.of(subject))[0], mean);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < subjects.size(); i++) {
            if (!subjects.get(i).equalsIgnoreCase(subject.strip())) {
                order.add(i);
            }
        }
        double[] similarity = new double[subjects.size()];
        for (int i : order) {
            similarity[i] = cosine(target, minus(pool[i], mean));
        }
        order.sort(Comparator.comparingDouble((Integer i) -> -similarity[i]).thenComparing(i -> i));
        return order.stream().limit(Math.max(0, count)).map(subjects::get).toList();
    }

    /** a − b. */
    private static float[] minus(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }

    /**
     * h^{L/2} at the last token of each text read alone, as one packed pass; then one more row after them: their mean.
     */
    private static float[][] represent(Model model, List<String> texts) {
        int layer = model.config().nLayers() / 2;
        List<int[]> tokens = texts.stream().map(t -> model.tokenizer().encodePrompt(t)).toList();
        float[][] out = new float[texts.size() + 1][];
        try (ForwardPass.PackedTraces traces = ForwardPass.of(model).traces(tokens); NDScope scope = new NDScope()) {
            for (int i = 0; i < texts.size(); i++) {
                Trace each = traces.each().get(i);
                out[i] = each.residPost(layer).get(tokens.get(i).length - 1).toFloatArray();
            }
        }
        out[texts.size()] = new float[out[0].length];
        for (int i = 0; i < texts.size(); i++) {
            for (int d = 0; d < out[i].length; d++) {
                out[texts.size()][d] += out[i][d] / texts.size();
            }
        }
        return out;
    }

    /** cos(a, b) = a·b / (‖a‖ ‖b‖). */
    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
