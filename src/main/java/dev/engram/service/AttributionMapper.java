package dev.engram.service;

import dev.engram.attribution.AttributionCharts;
import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.AttributionResult;
import dev.engram.attribution.NeuronId;
import dev.engram.attribution.QueryKey;
import dev.engram.attribution.ScoredNeuron;
import dev.engram.attribution.StepAttribution;
import dev.engram.grpc.v1.Charts;
import dev.engram.grpc.v1.LayerScore;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.LocateFactResponse;
import dev.engram.grpc.v1.AttentionNeuron;
import dev.engram.grpc.v1.FfnNeuron;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.Neuron;
import dev.engram.grpc.v1.NormMode;
import dev.engram.grpc.v1.TargetAttribution;
import java.util.Arrays;

/** Between the attribution engine's records and the protobuf messages of engram.v1.AttributionService. */
final class AttributionMapper {
    private static final int DEFAULT_FFN_VALUES = 100;
    private static final int DEFAULT_ATTENTION_VALUES = 30;

    private AttributionMapper() {
    }

    /** The engine's options; INVALID_ARGUMENT naming the field for anything out of range. */
    static AttributionOptions options(LocateFactRequest r) {
        int topK = PromptRequests.inRange("top_k", PromptRequests.orDefault(r.getTopK(), PromptRequests.DEFAULT_TOP_K), 1,
                AttributionOptions.MAX_TOP);
        var o = r.getOptions();
        int topQuery = o.hasTopQueryNeurons()
                ? PromptRequests.inRange("options.top_query_neurons", o.getTopQueryNeurons(), 0, AttributionOptions.MAX_TOP)
                : topK;
        int ffnValues = o.hasQueryFfnValueNeurons()
                ? PromptRequests.inRange("options.query_ffn_value_neurons", o.getQueryFfnValueNeurons(), 0,
                        AttributionOptions.MAX_TOP)
                : DEFAULT_FFN_VALUES;
        int attentionValues = o.hasQueryAttentionValueNeurons()
                ? PromptRequests.inRange("options.query_attention_value_neurons", o.getQueryAttentionValueNeurons(), 0,
                        AttributionOptions.MAX_TOP)
                : DEFAULT_ATTENTION_VALUES;
        dev.engram.attribution.NormMode mode = switch (o.getNormMode()) {
            case NORM_MODE_UNSPECIFIED, NORM_MODE_FROZEN -> dev.engram.attribution.NormMode.FROZEN;
            case NORM_MODE_EXACT -> dev.engram.attribution.NormMode.EXACT;
            default -> throw GrpcErrors.invalid("options.norm_mode", "unknown value " + o.getNormModeValue());
        };
        QueryKey key = switch (o.getQueryKey()) {
            case QUERY_KEY_UNSPECIFIED, QUERY_KEY_GATE -> QueryKey.GATE;
            case QUERY_KEY_UP -> QueryKey.UP;
            default -> throw GrpcErrors.invalid("options.query_key", "unknown value " + o.getQueryKeyValue());
        };
        boolean heads = o.getRenderCharts() || !o.hasHeadScores() || o.getHeadScores();
        return new AttributionOptions(topK, topQuery, mode, ffnValues, attentionValues, key, o.getExhaustive(), heads);
    }

    static LocateFactResponse response(AttributionResult result, ModelRef ref, boolean charts) {
        LocateFactResponse.Builder out = LocateFactResponse.newBuilder()
                .setModel(ref)
                .setNormMode(result.mode() == dev.engram.attribution.NormMode.EXACT
                        ? NormMode.NORM_MODE_EXACT : NormMode.NORM_MODE_FROZEN)
                .setTotalLogProbGain(result.totalGain());
        Arrays.stream(result.promptTokens()).forEach(out::addPromptTokenIds);
        result.steps().forEach(s -> out.addTargets(target(s)));
        if (charts) {
            out.setCharts(charts(result));
        }
        return out.build();
    }

    private static TargetAttribution target(StepAttribution s) {
        TargetAttribution.Builder t = TargetAttribution.newBuilder()
                .setPosition(s.position()).setTokenId(s.target()).setToken(s.targetText())
                .setLogProb(s.finalLogProb()).setEmbeddingLogProb(s.embeddingLogProb()).setLogProbGain(s.gain())
                .setNeuronsScoredExactly(s.evaluated()).setNeuronsTotal(s.neurons());
        s.valueNeurons().forEach(n -> t.addValueNeurons(neuron(n)));
        if (s.query() != null) {
            s.query().top().forEach(n -> t.addQueryNeurons(neuron(n)));
            t.setQueryEmbeddingScore(s.query().embedding());
        }
        for (int l = 0; l < s.attentionLayers().length; l++) {
            LayerScore.Builder layer = LayerScore.newBuilder().setLayer(l)
                    .setAttention(s.attentionLayers()[l]).setFfn(s.ffnLayers()[l]);
            if (s.query() != null) {
                layer.setQueryAttention(s.query().attentionLayers()[l]).setQueryFfn(s.query().ffnLayers()[l]);
            }
            if (s.heads() != null) {
                Arrays.stream(s.heads()[l]).forEach(layer::addHeads);
            }
            t.addLayers(layer);
        }
        return t.build();
    }

    private static Neuron neuron(ScoredNeuron n) {
        NeuronId id = n.id();
        Neuron.Builder b = Neuron.newBuilder().setPosition(id.position()).setScore(n.score())
                .setCoefficient(n.coefficient()).addAllTopTokens(n.topTokens()).setTargetRank(n.targetRank());
        if (id.kind() == dev.engram.attribution.NeuronKind.FFN) {
            b.setFfn(FfnNeuron.newBuilder().setLayer(id.layer()).setIndex(id.index()));
        } else {
            AttentionNeuron.Builder a = AttentionNeuron.newBuilder().setLayer(id.layer()).setHead(id.head())
                    .setDim(id.dim()).setSourcePosition(id.source());
            if (n.sourceToken() != null) {
                a.setSourceToken(n.sourceToken());
            }
            b.setAttention(a);
        }
        return b.build();
    }

    /** The charts of the summed attribution over the target's tokens. */
    static Charts charts(AttributionResult result) {
        StepAttribution first = result.steps().get(0);
        int layers = first.attentionLayers().length;
        double[] attention = new double[layers];
        double[] ffn = new double[layers];
        double[][] heads = new double[layers][first.heads()[0].length];
        for (StepAttribution s : result.steps()) {
            for (int l = 0; l < layers; l++) {
                attention[l] += s.attentionLayers()[l];
                ffn[l] += s.ffnLayers()[l];
                for (int j = 0; j < heads[l].length; j++) {
                    heads[l][j] += s.heads()[l][j];
                }
            }
        }
        String what = result.model() + ": log p increase for '" + first.targetText() + "'"
                + (result.steps().size() > 1 ? " (+" + (result.steps().size() - 1) + " tokens)" : "");
        return Charts.newBuilder()
                .setLayerScoresSvg(AttributionCharts.layerScores(attention, ffn, what + " by layer"))
                .setHeadHeatmapSvg(AttributionCharts.headHeatmap(heads, what + " by head"))
                .build();
    }
}
