package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.attribution.NeuronKind;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.support.RewrittenModels;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.verification.GateThresholds;
import dev.engram.verification.VerificationReport;
import dev.engram.verification.Verifier;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPT-2 family (LayerNorm with bias, GELU, learned positions, biased projections) through the edit engine, on a
 * seeded synthetic checkpoint with the real GPT-2 tokenizer: no real GPT-2 weights exist here.
 */
class Gpt2EditTest {
    @TempDir
    static Path dir;

    @Test
    void bothMethodsEditFfnAndAttentionNeuronsOfAGpt2Model() throws Exception {
        try (Model gpt2 = SyntheticModels.gpt2Checkpoint(dir.resolve("gpt2"), "gpt2-edit", 32, 2, 4, 31)) {
            int[] prompt = gpt2.tokenizer().encodePrompt("The capital of France is");
            NextTokenDistribution before = new NextTokenDistribution(ForwardPass.of(gpt2).lastLogits(prompt));
            int top = before.argmax();
            int target = gpt2.tokenizer().encodeContinuation(" Rome")[0];
            EditCase edit = new EditCase(prompt, new int[] {target}, new int[] {top},
                    List.of(gpt2.tokenizer().encodePrompt("The capital city of France is")), List.of());
            java.util.Map<EditMethod<?>, MethodOptions> settings = java.util.Map.of(
                    EditMethods.LEARNED, new LearnedOptions(40, 0.05, 0.6, 1, 10, 0.01, 10, 1),
                    EditMethods.CLOSED_FORM, new ClosedFormOptions(40, 3));
            for (EditMethod<?> method : EditMethods.all().stream().filter(EditMethod::editsLocatedUnits).toList()) {
                EditOptions options = new EditOptions(settings.get(method), 6,
                        EnumSet.of(NeuronKind.FFN, NeuronKind.ATTENTION), Set.of(), 0);
                EditResult r = new Editor(gpt2).edit(edit, options);
                Model edited = new Editor(gpt2).apply(r);
                NextTokenDistribution after = new NextTokenDistribution(ForwardPass.of(edited).lastLogits(prompt));
                assertTrue(after.logProbability(target) > after.logProbability(top),
                        method + ": P(new) " + after.probability(target) + " vs P(true) " + after.probability(top));
                assertEquals(6, r.delta().entries().size());
                try (Model rewritten = RewrittenModels.rewrite(gpt2, r.delta())) {
                    assertArrayEquals(ForwardPass.of(rewritten).lastLogits(prompt),
                            ForwardPass.of(edited).lastLogits(prompt), 1e-5f);
                }
                VerificationReport report = new Verifier(GateThresholds.defaults()).verify(gpt2, edited, edit, List.of());
                assertTrue(report.efficacy().success(), method + ": " + report.gates());
            }
        }
    }
}
