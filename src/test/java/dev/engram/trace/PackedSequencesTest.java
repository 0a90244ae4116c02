package dev.engram.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.engram.runtime.Param;
import dev.engram.runtime.Model;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A packed run against separate runs of each sequence, row for row. */
class PackedSequencesTest {

    private static void checkAgainstSeparateRuns(Model model, List<int[]> sequences) {
        checkAgainstSeparateRuns(model, sequences, PackedSequences.of(sequences));
    }

    private static void checkAgainstSeparateRuns(Model model, List<int[]> sequences, PackedSequences packed) {
        try (Trace all = ForwardPass.of(model).logits(packed); NDScope scope = new NDScope()) {
            for (int s = 0; s < sequences.size(); s++) {
                try (Trace alone = ForwardPass.of(model).logits(sequences.get(s))) {
                    for (int i = 0; i < sequences.get(s).length; i++) {
                        assertArrayEquals(alone.logits().get(i).toFloatArray(),
                                all.logits().get(packed.row(s, i)).toFloatArray(), 1e-4f,
                                model.name() + " sequence " + s + " token " + i);
                    }
                }
            }
        }
    }

    @Test
    void llamaWithRopeAndGroupedQueryAttention() {
        checkAgainstSeparateRuns(TestModels.sharedStories260K(),
                List.of(new int[] {1, 403, 407, 261}, new int[] {1, 291, 262}, new int[] {1, 403, 407, 261, 378, 432}));
    }

    @Test
    void gpt2WithLearnedPositions() {
        try (Model gpt2 = SyntheticModels.random("gpt2-packed", SyntheticModels.gpt2(32, 2, 4), true, 3,
                TestModels.root())) {
            checkAgainstSeparateRuns(gpt2, List.of(new int[] {464, 3139, 286}, new int[] {4881, 318, 9, 11, 12}));
        }
    }

    /**
     * Sequences sharing beginnings, each beginning packed once (a three-way chain, one sequence whole inside another
     * but for its last token, one sharing nothing): every token's logits equal a separate run's, on RoPE and on learned
     * positions, in fewer rows.
     */
    @Test
    void sharedPrefixesArePackedOnceAndEveryRowMatchesSeparateRuns() {
        List<int[]> sequences = List.of(new int[] {1, 403, 407, 261, 378}, new int[] {1, 403, 407, 291, 262},
                new int[] {1, 403, 407, 291, 500, 9}, new int[] {1, 403, 407, 261, 378, 432, 7}, new int[] {5, 403, 8});
        PackedSequences shared = PackedSequences.sharingPrefixes(sequences);
        assertEquals(5 + 2 + 2 + 2 + 3, shared.tokens().length);
        assertEquals(shared.row(0, 2), shared.row(2, 2));
        assertEquals(shared.row(1, 3), shared.row(2, 3));
        checkAgainstSeparateRuns(TestModels.sharedStories260K(), sequences, shared);
        try (Model gpt2 = SyntheticModels.random("gpt2-shared", SyntheticModels.gpt2(32, 2, 4), true, 3,
                TestModels.root())) {
            checkAgainstSeparateRuns(gpt2, sequences, shared);
            // a shared row belongs to one sequence, so it cannot serve two views
            assertThrows(IllegalStateException.class, () -> ForwardPass.ofEach(List.of(gpt2, gpt2, gpt2, gpt2, gpt2))
                    .logits(shared));
        }
    }

    /**
     * A whole packed trace of sequences sharing beginnings: at every row, each layer's residual, FFN coefficients and
     * attention read-out (Σ_p α_{t,p} · v_p over the packed rows up to t, which is how an edit reads an attention
     * neuron's coefficient) equal a separate trace's at that token.
     */
    @Test
    void aPackedTraceOfSharedPrefixesRecordsWhatSeparateTracesRecord() {
        Model model = TestModels.sharedStories260K();
        List<int[]> sequences = List.of(new int[] {1, 403, 407, 261, 378}, new int[] {1, 403, 407, 291, 262},
                new int[] {9, 403, 407});
        PackedSequences packed = PackedSequences.sharingPrefixes(sequences);
        try (Trace whole = ForwardPass.of(model).trace(packed); NDScope scope = new NDScope()) {
            for (int s = 0; s < sequences.size(); s++) {
                try (Trace alone = ForwardPass.of(model).trace(sequences.get(s))) {
                    for (int i = 0; i < sequences.get(s).length; i++) {
                        int row = packed.row(s, i);
                        for (int l = 0; l < model.config().nLayers(); l++) {
                            String at = "sequence " + s + " token " + i + " layer " + l;
                            assertArrayEquals(alone.residPre(l).get(i).toFloatArray(),
                                    whole.residPre(l).get(row).toFloatArray(), 1e-4f, at);
                            assertArrayEquals(alone.ffnCoefficients(l).get(i).toFloatArray(),
                                    whole.ffnCoefficients(l).get(row).toFloatArray(), 1e-4f, at);
                            assertArrayEquals(readOut(alone, l, i), readOut(whole, l, row), 1e-4f, at);
                        }
                        assertArrayEquals(alone.logits().get(i).toFloatArray(), whole.logits().get(row).toFloatArray(),
                                1e-4f, "logits of sequence " + s + " token " + i);
                    }
                }
            }
        }
    }

    /** Σ_{p ≤ t} α_{t,p}^h · v_p^h for every head h: [H · d_head]. */
    private static float[] readOut(Trace trace, int layer, int t) {
        NDArray pattern = trace.pattern(layer).get(":, " + t + ", :" + (t + 1));
        NDArray value = trace.value(layer).get(":, :" + (t + 1) + ", :");
        return pattern.expandDims(-1).mul(value).sum(new int[] {1}).toFloatArray();
    }

    /** Logits kept at chosen rows only, in the order asked, equal those rows of separate runs. */
    @Test
    void logitsAtChosenRowsMatchThoseRowsOfSeparateRuns() {
        Model model = TestModels.sharedStories260K();
        List<int[]> sequences = List.of(new int[] {1, 403, 407, 261}, new int[] {1, 291, 262});
        PackedSequences packed = PackedSequences.of(sequences);
        long[] rows = {packed.row(1, 2), packed.row(0, 0), packed.row(0, 3)};
        int[][] asked = {{1, 2}, {0, 0}, {0, 3}};
        try (Trace kept = ForwardPass.of(model).logitsAt(packed, rows); NDScope scope = new NDScope()) {
            assertArrayEquals(new long[] {3, model.config().vocabSize()}, kept.logits().getShape().getShape());
            for (int r = 0; r < rows.length; r++) {
                try (Trace alone = ForwardPass.of(model).logits(sequences.get(asked[r][0]))) {
                    assertArrayEquals(alone.logits().get(asked[r][1]).toFloatArray(), kept.logits().get(r).toFloatArray(),
                            1e-4f, "row " + r);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ForwardPass.of(model).logitsAt(packed, new long[] {7}));
    }

    /**
     * A run from block 3 with the residual entering it (what a learned edit does at every step) against the whole
     * run: the same logits and the same gradient of a trainable row update at block 3, and a row update below the
     * start block refused.
     */
    @Test
    void runFromAResidualMatchesTheWholeRunAndItsGradient() {
        Model model = TestModels.sharedStories260K();
        PackedSequences packed = PackedSequences.of(List.of(new int[] {1, 403, 407, 261}, new int[] {1, 291, 262, 378}));
        int start = 3;
        try (NDManager manager = model.weights().manager().newSubManager()) {
            NDArray residual;
            try (Trace whole = ForwardPass.of(model).trace(packed)) {
                residual = whole.residPre(start).duplicate();
                residual.attach(manager);
            }
            // a fixed random readout of every logit, so that the gradient depends on all of them
            NDArray probe = manager.create(seeded(packed.tokens().length * model.config().vocabSize(), 3),
                    new Shape(packed.tokens().length, model.config().vocabSize()));
            float[][] logits = new float[2][];
            float[][] gradients = new float[2][];
            for (int from = 0; from < 2; from++) {
                NDArray change = manager.create(seeded(2 * model.config().dModel(), 7),
                        new Shape(2, model.config().dModel()));
                change.setRequiresGradient(true);
                RowUpdate update = new RowUpdate(start, Param.FFN_DOWN, new int[] {5, 17},
                        model.config().dFfn(), change);
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    ForwardPass pass = ForwardPass.of(model).withRowUpdates(List.of(update));
                    try (Trace run = from == 0 ? pass.logits(packed) : pass.fromResidual(start, residual).logits(packed)) {
                        logits[from] = run.logits().toFloatArray();
                        collector.backward(run.logits().mul(probe).sum());
                    }
                }
                gradients[from] = change.getGradient().toFloatArray();
            }
            assertArrayEquals(logits[0], logits[1], 1e-5f, "logits");
            assertArrayEquals(gradients[0], gradients[1], 1e-4f, "gradient of the row update");
            RowUpdate below = new RowUpdate(start - 1, Param.FFN_DOWN, new int[] {5}, model.config().dFfn(),
                    manager.zeros(new Shape(1, model.config().dModel())));
            assertThrows(IllegalStateException.class, () -> ForwardPass.of(model).withRowUpdates(List.of(below))
                    .fromResidual(start, residual).logits(packed));
        }
    }

    /**
     * ROME's v* step two ways: a change δ added to h^{start−1} at one row of each sequence, the whole sequences run
     * from block {@code start}, against the rows before that row run once into a cache (one beginning empty) and only
     * the rows from it on run after the cache, twice. The same logits at every end row and the same gradient of δ;
     * the cache unchanged by the runs.
     */
    @Test
    void aRunAfterCachedBeginningsMatchesTheWholeRunAndItsGradient() {
        Model model = TestModels.sharedStories260K();
        List<int[]> sequences = List.of(new int[] {1, 403, 407, 261, 300}, new int[] {291, 262, 378},
                new int[] {1, 291, 262, 378, 403, 407});
        int[] changedRow = {2, 0, 4};
        int start = 3;
        int d = model.config().dModel();
        PackedSequences whole = PackedSequences.of(sequences);
        List<int[]> beginnings = new java.util.ArrayList<>();
        List<int[]> ends = new java.util.ArrayList<>();
        for (int s = 0; s < sequences.size(); s++) {
            beginnings.add(java.util.Arrays.copyOf(sequences.get(s), changedRow[s]));
            ends.add(java.util.Arrays.copyOfRange(sequences.get(s), changedRow[s], sequences.get(s).length));
        }
        try (NDManager manager = model.weights().manager().newSubManager(); KvCache prefix = new KvCache(model)) {
            ForwardPass.of(model).prefill(beginnings, prefix);
            PackedSequences after = PackedSequences.after(prefix, ends);
            int cached = prefix.length();
            assertEquals(4 + 0 + 2, cached);
            long[] endRows = new long[after.tokens().length];
            float[] wholeMask = new float[whole.tokens().length];
            float[] endMask = new float[endRows.length];
            for (int s = 0; s < sequences.size(); s++) {
                wholeMask[whole.row(s, changedRow[s])] = 1;
                endMask[after.row(s, 0)] = 1;
                for (int i = 0; i < ends.get(s).length; i++) {
                    endRows[after.row(s, i)] = whole.row(s, changedRow[s] + i);
                }
            }
            NDArray residual;
            try (Trace trace = ForwardPass.of(model).trace(whole)) {
                residual = trace.residPre(start).duplicate();
                residual.attach(manager);
            }
            NDArray endResidual = residual.get(manager.create(endRows));
            float[][] logits = new float[3][];
            float[][] gradients = new float[3][];
            for (int run = 0; run < 3; run++) {
                NDArray delta = manager.create(seeded(d, 11), new Shape(1, d));
                delta.setRequiresGradient(true);
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    ForwardPass pass = ForwardPass.of(model).differentiable();
                    NDArray rows;
                    try (Trace t = run == 0
                            ? pass.fromResidual(start, residual.add(manager.create(wholeMask,
                                    new Shape(wholeMask.length, 1)).mul(delta))).logitsAt(whole, endRows)
                            : pass.fromResidual(start, endResidual.add(manager.create(endMask,
                                    new Shape(endMask.length, 1)).mul(delta))).afterPrefix(prefix)
                                    .logits(after)) {
                        rows = t.logits();
                        logits[run] = rows.toFloatArray();
                        collector.backward(rows.logSoftmax(-1).get(":, 7").sum());
                    }
                }
                gradients[run] = delta.getGradient().toFloatArray();
                assertEquals(cached, prefix.length(), "the runs leave the cache as it was");
            }
            for (int run = 1; run < 3; run++) {
                assertArrayEquals(logits[0], logits[run], 1e-4f, "logits, run " + run);
                assertArrayEquals(gradients[0], gradients[run], 1e-4f, "gradient of the change, run " + run);
            }
            assertThrows(IllegalStateException.class,
                    () -> ForwardPass.of(model).afterPrefix(prefix).extend(new int[] {5}, prefix));
        }
    }

    private static float[] seeded(int size, long seed) {
        float[] out = new float[size];
        java.util.Random random = new java.util.Random(seed);
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (0.1 * random.nextGaussian());
        }
        return out;
    }

    @Test
    void emptySequencesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> PackedSequences.of(List.of()));
        assertThrows(IllegalArgumentException.class, () -> PackedSequences.of(List.of(new int[] {1}, new int[0])));
    }
}
