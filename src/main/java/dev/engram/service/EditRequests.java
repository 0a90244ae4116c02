package dev.engram.service;

import static dev.engram.service.GrpcErrors.invalid;

import dev.engram.attribution.NeuronKind;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethods;
import dev.engram.editing.MethodOptions;
import dev.engram.editing.EditOptions;
import dev.engram.editing.Neighbour;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.NeighbourPrompt;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.inference.Predictions;
import dev.engram.verification.DerivedNeighbours;
import dev.engram.verification.GateThresholds;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks an {@link EditRequest} in full and turns it into the engine's inputs; INVALID_ARGUMENT naming the field for
 * anything wrong, before any model work. Paraphrases and neighbours go to verification only.
 */
public final class EditRequests {
    private EditRequests() {
    }

    /** A request checked and tokenized. */
    record Checked(Model model, String prompt, String targetNew, String targetTrue, EditCase edit, EditOptions options,
            GateThresholds thresholds) {
    }

    static Checked check(EditRequest r, Model model, EngramConfig config) {
        String prompt = promptText(r);
        int[] promptTokens = PromptRequests.promptTokens(model, prompt, config.maxPromptTokens());
        if (r.getTargetNew().isBlank()) {
            throw invalid("target_new", "must not be empty or whitespace");
        }
        int[] targetNew = continuation(model, "target_new", r.getTargetNew());
        String trueText = r.getTargetTrue();
        int[] targetTrue;
        if (trueText.isEmpty()) {
            int top = Predictions.next(model, promptTokens).argmax();
            targetTrue = new int[] {top};
            trueText = model.tokenizer().decode(targetTrue);
        } else {
            if (trueText.isBlank()) {
                throw invalid("target_true", "must not be whitespace (leave it empty for the model's top-1)");
            }
            targetTrue = continuation(model, "target_true", trueText);
        }
        if (java.util.Arrays.equals(targetNew, targetTrue)) {
            throw invalid("target_new", "'" + r.getTargetNew() + "' equals target_true '" + trueText + "'");
        }
        int limit = Math.min(model.config().maxSeqLen(), config.editing().maxPromptTokens());
        int longest = promptTokens.length + Math.max(targetNew.length, targetTrue.length);
        if (longest > limit) {
            throw invalid("prompt", "prompt and target are " + longest + " tokens; an edit takes at most " + limit
                    + " (ENGRAM_EDIT_MAX_TOKENS, engram.editing.max-prompt-tokens)");
        }
        if (r.getParaphrasesCount() > config.editing().maxParaphrases()) {
            throw invalid("paraphrases", "at most " + config.editing().maxParaphrases() + " are allowed, got "
                    + r.getParaphrasesCount());
        }
        if (r.getNeighboursCount() > config.editing().maxNeighbours()) {
            throw invalid("neighbours", "at most " + config.editing().maxNeighbours() + " are allowed, got "
                    + r.getNeighboursCount());
        }
        List<int[]> paraphrases = new ArrayList<>();
        for (int i = 0; i < r.getParaphrasesCount(); i++) {
            paraphrases.add(verificationPrompt(model, "paraphrases[" + i + "]", r.getParaphrases(i), limit));
        }
        List<Neighbour> neighbours = new ArrayList<>();
        for (int i = 0; i < r.getNeighboursCount(); i++) {
            NeighbourPrompt n = r.getNeighbours(i);
            String field = "neighbours[" + i + "]";
            if (n.getExpected().isBlank()) {
                throw invalid(field + ".expected", "must not be empty or whitespace");
            }
            neighbours.add(new Neighbour(verificationPrompt(model, field + ".prompt", n.getPrompt(), limit),
                    continuation(model, field + ".expected", n.getExpected())));
        }
        EditCase edit = DerivedNeighbours.attach(model, new EditCase(promptTokens, targetNew, targetTrue, paraphrases,
                neighbours).withSubject(model, r.getSubject(), r.getTemplate()), r.getSubject(), r.getTemplate());
        return new Checked(model, prompt, r.getTargetNew(), trueText, edit, options(r.getOptions(), model.config(),
                !r.getSubject().isEmpty()), thresholds(r.getThresholds()));
    }

    /** An EditRequest from its proto JSON (one line of an edit batch); IllegalArgumentException naming the problem. */
    static EditRequest parseJson(String json) {
        EditRequest.Builder b = EditRequest.newBuilder();
        try {
            com.google.protobuf.util.JsonFormat.parser().merge(json, b);
        } catch (com.google.protobuf.InvalidProtocolBufferException | RuntimeException e) {
            throw new IllegalArgumentException("line: not an EditRequest in proto JSON: " + e.getMessage());
        }
        return b.build();
    }

    /** `prompt`, or `template` with `{}` replaced by `subject`. */
    static String promptText(EditRequest r) {
        boolean templated = !r.getTemplate().isEmpty() || !r.getSubject().isEmpty();
        if (!templated) {
            if (r.getPrompt().isBlank()) {
                throw invalid("prompt", "must not be empty (or give subject and template)");
            }
            return r.getPrompt();
        }
        if (!r.getPrompt().isEmpty()) {
            throw invalid("prompt", "give either prompt, or subject and template, not both");
        }
        if (!r.getTemplate().contains("{}")) {
            throw invalid("template", "must contain {} where the subject goes");
        }
        if (r.getSubject().isBlank()) {
            throw invalid("subject", "must not be empty when a template is given");
        }
        return r.getTemplate().replace("{}", r.getSubject());
    }

    private static int[] continuation(Model model, String field, String text) {
        int[] ids = model.tokenizer().encodeContinuation(text);
        if (ids.length == 0) {
            throw invalid(field, "'" + text + "' tokenizes to no tokens");
        }
        return ids;
    }

    private static int[] verificationPrompt(Model model, String field, String text, int limit) {
        if (text.isBlank()) {
            throw invalid(field, "must not be empty");
        }
        int[] ids = model.tokenizer().encodePrompt(text);
        if (ids.length == 0 || ids.length >= limit) {
            throw invalid(field, "is " + ids.length + " tokens; at most " + (limit - 1) + " are allowed");
        }
        return ids;
    }

    /**
     * The request's options; a request that names no method gets {@link EditMethods#defaultFor}. Public for the
     * evaluation harness, which reads a method's options as a request gives them.
     */
    public static EditOptions options(dev.engram.grpc.v1.EditOptions o, ModelConfig c, boolean hasSubject) {
        MethodOptions method = MethodMessages.read(o, EditMethods.defaultFor(c, hasSubject));
        EditOptions d = EditOptions.defaults(method.method(), c.nLayers());
        Set<NeuronKind> kinds = o.getNeuronKindsCount() == 0 ? d.kinds() : EnumSet.noneOf(NeuronKind.class);
        for (int i = 0; i < o.getNeuronKindsCount(); i++) {
            kinds.add(switch (o.getNeuronKindsValue(i)) {
                case 1 -> NeuronKind.FFN;
                case 2 -> NeuronKind.ATTENTION;
                default -> throw invalid("options.neuron_kinds", "unknown kind " + o.getNeuronKindsValue(i));
            });
        }
        long neurons = 0;
        for (NeuronKind k : kinds) {
            neurons += (long) c.nLayers() * (k == NeuronKind.FFN ? c.dFfn() : c.qDim());
        }
        int budget = o.hasNeuronBudget() ? o.getNeuronBudget() : d.neuronBudget();
        if (budget <= 0 || budget > neurons) {
            throw invalid("options.neuron_budget", "must be between 1 and " + neurons
                    + " (the model's neurons of the allowed kinds), got " + budget);
        }
        Set<Integer> excluded = new HashSet<>(o.getExcludedLayersCount() == 0 ? d.excludedLayers() : Set.of());
        for (int layer : o.getExcludedLayersList()) {
            if (layer < 0 || layer >= c.nLayers()) {
                throw invalid("options.excluded_layers", "layer " + layer + " is outside [0, " + c.nLayers() + ")");
            }
            excluded.add(layer);
        }
        return new EditOptions(method, budget, kinds, excluded, o.getSeed());
    }

    static GateThresholds thresholds(dev.engram.grpc.v1.GateThresholds t) {
        GateThresholds d = GateThresholds.defaults();
        return new GateThresholds(
                t.hasMinParaphraseSuccess() ? t.getMinParaphraseSuccess() : d.minParaphraseSuccess(),
                t.hasMaxNeighbourFlips() ? t.getMaxNeighbourFlips() : d.maxNeighbourFlips(),
                t.hasMaxNeighbourKl() ? t.getMaxNeighbourKl() : d.maxNeighbourKl(),
                t.hasMaxSentinelFlips() ? t.getMaxSentinelFlips() : d.maxSentinelFlips(),
                t.hasMaxFluencyDrop() ? t.getMaxFluencyDrop() : d.maxFluencyDrop(),
                t.hasFluencyTokens() ? t.getFluencyTokens() : d.fluencyTokens(),
                t.hasMaxSameObjectLosses() ? t.getMaxSameObjectLosses() : d.maxSameObjectLosses(),
                t.hasEarlierEditChecks() ? t.getEarlierEditChecks() : d.earlierEditChecks(),
                t.hasMaxEarlierEditsUndone() ? t.getMaxEarlierEditsUndone() : d.maxEarlierEditsUndone());
    }
}
