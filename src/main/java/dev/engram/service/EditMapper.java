package dev.engram.service;

import dev.engram.attribution.NeuronKind;
import dev.engram.editing.EditResult;
import dev.engram.editing.EditUnit;
import dev.engram.grpc.v1.DeltaSummary;
import dev.engram.grpc.v1.EditTimings;
import dev.engram.grpc.v1.EditedVector;
import dev.engram.grpc.v1.FluencyReport;
import dev.engram.grpc.v1.Gate;
import dev.engram.grpc.v1.GateReport;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ProposeEditResponse;
import dev.engram.grpc.v1.PromptReport;
import dev.engram.grpc.v1.TokenCandidate;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.WeightDelta;
import dev.engram.verification.GateResult;
import dev.engram.verification.NeighbourCheck;
import dev.engram.verification.PromptCheck;
import dev.engram.verification.SentinelCheck;
import dev.engram.verification.VerificationReport;
import java.util.List;

/** Between the edit engine's and verifier's records and the protobuf messages of engram.v1.EditService. */
final class EditMapper {
    private EditMapper() {
    }

    static ProposeEditResponse proposal(EditRequests.Checked c, ModelRef ref, EditResult result,
            VerificationReport report, long totalMillis) {
        return ProposeEditResponse.newBuilder()
                .setModel(ref).setPrompt(c.prompt()).setTargetNew(c.targetNew()).setTargetTrue(c.targetTrue())
                .setDelta(delta(c.model(), result))
                .setReport(report(c.model(), report))
                .setTimings(EditTimings.newBuilder().setLocateMs(result.locateMillis()).setEditMs(result.editMillis())
                        .setVerifyMs(report.millis()).setTotalMs(totalMillis))
                .build();
    }

    static DeltaSummary delta(Model model, EditResult result) {
        WeightDelta delta = result.delta();
        DeltaSummary.Builder out = DeltaSummary.newBuilder()
                .setMethod(MethodMessages.value(result.method()))
                .setParametersTouched(delta.parametersTouched())
                .setParametersTouchedFraction(delta.parametersTouched() / (double) model.config().parameterCount())
                .setNorm(delta.norm()).setHash(delta.hash()).setSteps(result.steps())
                .setTrainingPrompts(result.trainingPrompts());
        int dh = model.config().headDim();
        for (EditUnit u : result.units()) {
            WeightDelta.Entry e = delta.get(new WeightDelta.Key(u.layer(), u.matrix(), WeightDelta.Slice.ROW, u.row()));
            EditedVector.Builder v = EditedVector.newBuilder()
                    .setKind(u.kind() == NeuronKind.FFN ? dev.engram.grpc.v1.NeuronKind.NEURON_KIND_FFN
                            : dev.engram.grpc.v1.NeuronKind.NEURON_KIND_ATTENTION)
                    .setLayer(u.layer()).setRow(u.row())
                    .setReason(u.reason() == EditUnit.Reason.CARRIES_TRUE ? "carries_true" : "promotes_new")
                    .setSelectionScore(u.score());
            if (u.kind() == NeuronKind.ATTENTION) {
                v.setHead(u.row() / dh).setDim(u.row() % dh);
            }
            if (e != null) {
                v.setOriginalNorm(e.originalNorm()).setDeltaNorm(e.changeNorm());
            }
            out.addVectors(v);
        }
        return out.build();
    }


    static dev.engram.grpc.v1.VerificationReport report(Model model, VerificationReport r) {
        dev.engram.grpc.v1.VerificationReport.Builder out = dev.engram.grpc.v1.VerificationReport.newBuilder()
                .setPassed(r.passed())
                .setEfficacy(prompt(model, r.efficacy()))
                .setFluency(FluencyReport.newBuilder().setParentText(r.fluency().parentText())
                        .setEditedText(r.fluency().editedText()).setParentEntropy(r.fluency().parentEntropy())
                        .setEditedEntropy(r.fluency().editedEntropy()));
        r.failedGates().forEach(g -> out.addFailedGates(gate(g)));
        for (GateResult g : r.gates()) {
            out.addGates(GateReport.newBuilder().setGate(gate(g.gate())).setPassed(g.passed()).setDetail(g.detail()));
        }
        r.paraphrases().forEach(p -> out.addParaphrases(prompt(model, p)));
        r.paraphraseSuccess().ifPresent(out::setParaphraseScore);
        r.neighbourhoodSuccess().ifPresent(out::setNeighbourhoodScore);
        r.sameObjectSuccess().ifPresent(out::setSameObjectScore);
        r.relationSuccess().ifPresent(out::setRelationScore);
        r.neighbours().forEach(n -> out.addNeighbours(neighbour(model, n)));
        r.sameObject().forEach(n -> out.addSameObjectNeighbours(neighbour(model, n).toBuilder()
                .setSuccess(!n.lostToNew())));
        r.relationNeighbours().forEach(n -> out.addRelationNeighbours(neighbour(model, n)));
        r.sentinels().forEach(s -> out.addSentinels(sentinel(s)));
        r.earlierEdits().forEach(e -> out.addEarlierEdits(prompt(model, e)));
        r.earlierEditRetention().ifPresent(out::setEarlierEditScore);
        return out.build();
    }

    private static Gate gate(GateResult.Gate g) {
        return switch (g) {
            case EFFICACY -> Gate.GATE_EFFICACY;
            case GENERALISATION -> Gate.GATE_GENERALISATION;
            case SPECIFICITY -> Gate.GATE_SPECIFICITY;
            case FLUENCY -> Gate.GATE_FLUENCY;
            case RETENTION -> Gate.GATE_RETENTION;
        };
    }

    private static PromptReport prompt(Model model, PromptCheck p) {
        return PromptReport.newBuilder().setPrompt(text(model, p.prompt())).setSuccess(p.success())
                .setNewProbabilityBefore(p.newProbBefore()).setTrueProbabilityBefore(p.trueProbBefore())
                .setNewProbability(p.newProb()).setTrueProbability(p.trueProb())
                .setNewRank(p.newRank()).setTrueRank(p.trueRank())
                .addAllTopBefore(candidates(p.topBefore())).addAllTopAfter(candidates(p.topAfter())).build();
    }

    private static PromptReport neighbour(Model model, NeighbourCheck n) {
        return PromptReport.newBuilder().setPrompt(text(model, n.prompt())).setSuccess(!n.flipped())
                .setExpected(text(model, n.expected())).setKl(n.kl())
                .addAllTopBefore(candidates(n.topBefore())).addAllTopAfter(candidates(n.topAfter())).build();
    }

    private static PromptReport sentinel(SentinelCheck s) {
        return PromptReport.newBuilder().setPrompt(s.prompt()).setSuccess(s.kept()).setExpected(s.parentTop1())
                .setKl(s.kl()).addAllTopBefore(candidates(s.topBefore())).addAllTopAfter(candidates(s.topAfter()))
                .build();
    }

    static List<TokenCandidate> candidates(List<TokenProbability> tokens) {
        return tokens.stream().map(t -> TokenCandidate.newBuilder().setId(t.id()).setText(t.text())
                .setProbability(t.probability()).setLogProbability(t.logProbability()).build()).toList();
    }

    private static String text(Model model, int[] tokens) {
        return model.tokenizer().decode(tokens);
    }
}
