package dev.engram.editing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Param;
import dev.engram.runtime.Precision;
import dev.engram.runtime.load.AtomicFiles;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The second moment of FFN keys, C_l = E[k kᵀ] = (1/N) Σ_t k_t k_tᵀ, over every token t of the corpus
 * ({@link SampledCorpus}), where k_t is layer l's FFN activation at t (the input of the down projection, TransformerLens
 * {@code blocks.l.mlp.hook_post}). ROME whitens its key with C⁻¹; MEMIT and AlphaEdit weigh and project by it.
 *
 * <p>C depends only on the base weights: it is computed once per base model and layer, kept in memory, and, where a
 * directory is configured ({@link #useDirectory}: the checkpoint store's {@code statistics/}), written there
 * atomically under the base weights' fingerprint, so a restarted server reads it instead of sampling again.
 */
public final class KeyStatistics {
    private static final long CORPUS_SEED = 20240917L;
    private static final Map<ModelWeights, Map<Integer, double[][]>> MEMORY =
            Collections.synchronizedMap(new WeakHashMap<>());
    private static volatile Path directory;
    /** The sampled corpus per base model, kept while statistics of more layers may be asked for. */
    private static final Map<ModelWeights, List<int[]>> CORPORA = Collections.synchronizedMap(new WeakHashMap<>());

    private KeyStatistics() {
    }

    /** Where statistics are kept on disk from now on (null: memory only). */
    public static void useDirectory(Path dir) {
        directory = dir;
    }

    /** Inverses and projectors derived from each C, per base model and layer (and threshold). */
    private static final Map<ModelWeights, Map<String, double[][]>> DERIVED =
            Collections.synchronizedMap(new WeakHashMap<>());
    private static final Map<ModelWeights, Map<String, Object>> EIGEN =
            Collections.synchronizedMap(new WeakHashMap<>());
    /** Ridge of the inverse, relative to the mean eigenvalue tr(C)/n: C⁻¹ is of C + ε·tr(C)/n·I. */
    static final double RIDGE = 1e-4;

    /** (C + ε·tr(C)/n·I)⁻¹ for layer l (ε = {@value #RIDGE}: the sampled corpus leaves some directions barely seen). */
    public static double[][] inverse(Model model, int layer) {
        return derived(model, "inverse/" + layer, () -> {
            double[][] c = covariance(model, layer);
            return KeyValueAlgebra.inverse(c, RIDGE * trace(c) / c.length);
        });
    }

    /** AlphaEdit's null-space projector of layer l, over eigenvalues below {@code relative}·tr(C)/n. */
    public static double[][] projector(Model model, int layer, double relative) {
        return derived(model, "projector/" + layer + "/" + relative, () -> {
            double[][] c = covariance(model, layer);
            return KeyValueAlgebra.nullSpaceProjector(eigen(model, layer), relative * trace(c) / c.length);
        });
    }

    /** C's eigen-decomposition for layer l, once per base model and layer (projectors for any threshold use it). */
    static KeyValueAlgebra.Eigen eigen(Model model, int layer) {
        Map<String, Object> mine = EIGEN.computeIfAbsent(model.weights().base(),
                b -> Collections.synchronizedMap(new HashMap<>()));
        return (KeyValueAlgebra.Eigen) mine.computeIfAbsent("eigen/" + layer,
                k -> KeyValueAlgebra.eigen(covariance(model, layer)));
    }

    private static double[][] derived(Model model, String key, java.util.function.Supplier<double[][]> compute) {
        Map<String, double[][]> mine = DERIVED.computeIfAbsent(model.weights().base(),
                b -> Collections.synchronizedMap(new HashMap<>()));
        double[][] known = mine.get(key);
        if (known == null) {
            known = compute.get();
            mine.put(key, known);
        }
        return known;
    }

    static double trace(double[][] c) {
        double t = 0;
        for (int i = 0; i < c.length; i++) {
            t += c[i][i];
        }
        return t;
    }

    /** C_l of {@code model}'s base weights, layer by layer as asked. */
    public static double[][] covariance(Model model, int layer) {
        return covariances(model, new int[] {layer}).get(layer);
    }

    /** C_l for every layer asked, measured together in one pass over the corpus for the layers not known yet. */
    public static synchronized Map<Integer, double[][]> covariances(Model model, int[] layers) {
        Map<Integer, double[][]> known = MEMORY.computeIfAbsent(model.weights().base(), b -> new HashMap<>());
        List<Integer> missing = new ArrayList<>();
        for (int l : layers) {
            if (!known.containsKey(l)) {
                double[][] read = read(model, l);
                if (read != null) {
                    known.put(l, read);
                } else {
                    missing.add(l);
                }
            }
        }
        if (!missing.isEmpty()) {
            Model base = model.edited(dev.engram.runtime.WeightDelta.none());
            List<int[]> corpus = CORPORA.computeIfAbsent(model.weights().base(),
                    b -> SampledCorpus.sample(base, SampledCorpus.SEQUENCES, SampledCorpus.TOKENS, CORPUS_SEED));
            Map<Integer, double[][]> measured = measure(base, corpus, missing);
            measured.forEach((l, c) -> {
                known.put(l, c);
                write(model, l, c);
            });
        }
        Map<Integer, double[][]> out = new HashMap<>();
        for (int l : layers) {
            out.put(l, known.get(l));
        }
        return out;
    }

    /** (1/N) Σ_t k_t k_tᵀ over every token of every sequence, for each layer (summed and divided in place). */
    static Map<Integer, double[][]> measure(Model model, List<int[]> corpus, List<Integer> layers) {
        int dFfn = model.config().dFfn();
        Map<Integer, double[][]> sums = new HashMap<>();
        layers.forEach(l -> sums.put(l, new double[dFfn][dFfn]));
        long tokens = 0;
        for (int[] sequence : corpus) {
            try (Trace trace = ForwardPass.of(model).trace(sequence); NDScope scope = new NDScope()) {
                for (int l : layers) {
                    NDArray k = trace.ffnCoefficients(l);
                    float[] kk = k.transpose().matMul(k).toFloatArray();
                    double[][] sum = sums.get(l);
                    for (int i = 0; i < dFfn; i++) {
                        double[] row = sum[i];
                        for (int j = 0, at = i * dFfn; j < dFfn; j++, at++) {
                            row[j] += kk[at];
                        }
                    }
                }
            }
            tokens += sequence.length;
        }
        for (double[][] sum : sums.values()) {
            for (double[] row : sum) {
                for (int j = 0; j < row.length; j++) {
                    row[j] /= tokens;
                }
            }
        }
        return sums;
    }

    private static Path file(Model model, int layer) {
        Path dir = directory;
        return dir == null ? null : dir.resolve(fingerprint(model.weights().base()) + "-layer" + layer + ".c64");
    }

    private static double[][] read(Model model, int layer) {
        Path file = file(model, layer);
        return file == null ? null : read(file, model.config().dFfn());
    }

    /** A cached n × n C, read a row at a time; null when absent, of another shape or unreadable. */
    static double[][] read(Path file, int n) {
        if (!Files.exists(file)) {
            return null;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(4);
            readFully(channel, head);
            if (head.flip().getInt() != n || channel.size() != 4 + 8L * n * n) {
                return null;
            }
            double[][] c = new double[n][n];
            ByteBuffer row = ByteBuffer.allocate(8 * n);
            for (double[] r : c) {
                readFully(channel, row.clear());
                row.flip().asDoubleBuffer().get(r);
            }
            return c;
        } catch (IOException e) {
            return null; // an unreadable cache entry is measured again
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer into) throws IOException {
        while (into.hasRemaining()) {
            if (channel.read(into) < 0) {
                throw new java.io.EOFException();
            }
        }
    }

    private static void write(Model model, int layer, double[][] c) {
        Path file = file(model, layer);
        if (file != null) {
            write(file, c);
        }
    }

    /** Writes C atomically, a row at a time: [n][n rows of n big-endian doubles]. */
    static void write(Path file, double[][] c) {
        int n = c.length;
        try {
            Files.createDirectories(file.getParent());
            AtomicFiles.write(file, channel -> {
                ByteBuffer head = ByteBuffer.allocate(4).putInt(n).flip();
                while (head.hasRemaining()) {
                    channel.write(head);
                }
                ByteBuffer bytes = ByteBuffer.allocate(8 * n);
                for (double[] row : c) {
                    bytes.clear().asDoubleBuffer().put(row);
                    bytes.position(0).limit(8 * n);
                    while (bytes.hasRemaining()) {
                        channel.write(bytes);
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("writing key statistics to " + file, e);
        }
    }

    /**
     * A name for the base weights: SHA-256 over the configuration and, from every layer, the down projection's first
     * and last rows (enough to tell models and checkpoint bases apart, read in microseconds).
     */
    static String fingerprint(ModelWeights base) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(String.valueOf(base.layers().size()).getBytes(StandardCharsets.UTF_8));
            for (int l = 0; l < base.layers().size(); l++) {
                NDArray w = base.layer(l).matrix(Param.FFN_DOWN);
                long rows = w.getShape().get(0);
                sha.update(String.valueOf(w.getShape()).getBytes(StandardCharsets.UTF_8));
                for (long r : new long[] {0, rows - 1}) {
                    try (NDArray row = w.get(r)) {
                        ByteBuffer b = ByteBuffer.allocate(4 * (int) row.size());
                        for (float f : Precision.floats(row)) {
                            b.putFloat(f);
                        }
                        sha.update(b.array());
                    }
                }
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
