package dev.engram.service;

import dev.engram.grpc.v1.CompareRequest;
import dev.engram.grpc.v1.CompareResponse;
import dev.engram.grpc.v1.DiffRequest;
import dev.engram.grpc.v1.DiffResponse;
import dev.engram.grpc.v1.GetCheckpointRequest;
import dev.engram.grpc.v1.GetCheckpointResponse;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ListCheckpointsResponse;
import dev.engram.grpc.v1.PromptComparison;
import dev.engram.grpc.v1.RollbackRequest;
import dev.engram.grpc.v1.RollbackResponse;
import dev.engram.grpc.v1.TokenCandidate;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.WeightDelta;
import dev.engram.store.CheckpointDiff;
import dev.engram.store.CheckpointRecord;
import dev.engram.store.CheckpointStore;
import dev.engram.inference.Predictions;
import dev.engram.verification.Verifier;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** ListCheckpoints, GetCheckpoint, Rollback, Diff and Compare: reads of the store, and the head move of a rollback. */
@ApplicationScoped
public class CheckpointQueries {
    static final int MAX_COMPARE_PROMPTS = 64;
    private final ModelViews views;
    private final EngramConfig config;

    public CheckpointQueries(ModelViews views, EngramConfig config) {
        this.views = views;
        this.config = config;
    }

    public ListCheckpointsResponse list(ListCheckpointsRequest r) {
        String model = views.modelName(r.getModel());
        CheckpointStore store = views.store();
        return GrpcErrors.store(() -> {
            String head = store.head(model);
            ListCheckpointsResponse.Builder out = ListCheckpointsResponse.newBuilder().setModel(model).setHead(head);
            store.list(model).forEach(c -> out.addCheckpoints(CheckpointMapper.checkpoint(c, head, false)));
            store.history(model).forEach(m -> out.addHistory(CheckpointMapper.move(m)));
            return out.build();
        });
    }

    public GetCheckpointResponse get(GetCheckpointRequest r) {
        String model = views.modelName(r.getModel().getName());
        String id = views.checkpointId(model, r.getModel().getCheckpoint(), "model.checkpoint");
        if (CheckpointStore.BASE.equals(id)) {
            throw GrpcErrors.invalid("model.checkpoint", "model '" + model + "' is at its base weights; "
                    + "the base is not a checkpoint");
        }
        CheckpointStore store = views.store();
        return GrpcErrors.store(() -> {
            CheckpointRecord record = store.require(model, id);
            GetCheckpointResponse.Builder out = GetCheckpointResponse.newBuilder()
                    .setCheckpoint(CheckpointMapper.checkpoint(record, store.head(model), true));
            store.lineage(id).forEach(c -> out.addLineage(c.id()));
            return out.build();
        });
    }

    public RollbackResponse rollback(RollbackRequest r, String author) {
        String model = views.modelName(r.getModel());
        if (r.getTo().isEmpty()) {
            throw GrpcErrors.invalid("to", "name the checkpoint to roll back to (an id, a unique prefix, or 'base')");
        }
        String to = views.checkpointId(model, r.getTo(), "to");
        String expected = r.getExpectedHead().isEmpty() ? null
                : views.checkpointId(model, r.getExpectedHead(), "expected_head");
        CheckpointStore store = views.store();
        return GrpcErrors.store(() -> {
            String previous = store.head(model);
            String head = store.rollback(model, to, expected, author);
            return RollbackResponse.newBuilder().setModel(model).setPreviousHead(previous).setHead(head).build();
        });
    }

    public DiffResponse diff(DiffRequest r) {
        Model base = views.base(r.getModel());
        ModelViews.View from = views.resolve(base.name(), r.getFrom().isEmpty() ? CheckpointStore.BASE : r.getFrom(),
                "from");
        ModelViews.View to = views.resolve(base.name(), r.getTo(), "to");
        WeightDelta fromDelta = from.model().delta();
        WeightDelta toDelta = to.model().delta();
        List<CheckpointDiff.Changed> changed = CheckpointDiff.between(fromDelta, toDelta);
        DiffResponse.Builder out = DiffResponse.newBuilder().setModel(base.name()).setFrom(from.checkpoint())
                .setTo(to.checkpoint());
        double sum = 0;
        long parameters = 0;
        for (CheckpointDiff.Changed c : changed) {
            out.addVectors(CheckpointMapper.changed(c, base.config()));
            sum += c.deltaNorm() * c.deltaNorm();
            parameters += c.length();
        }
        return out.setParametersChanged(parameters).setNorm(Math.sqrt(sum)).build();
    }

    public CompareResponse compare(CompareRequest r) {
        String name = views.modelName(r.getModel());
        ModelViews.View a = views.resolve(name, r.getCheckpointA().isEmpty() ? CheckpointStore.BASE : r.getCheckpointA(),
                "checkpoint_a");
        ModelViews.View b = views.resolve(name, r.getCheckpointB(), "checkpoint_b");
        if (r.getPromptsCount() == 0) {
            throw GrpcErrors.invalid("prompts", "give at least one prompt");
        }
        if (r.getPromptsCount() > MAX_COMPARE_PROMPTS) {
            throw GrpcErrors.invalid("prompts", r.getPromptsCount() + " prompts; at most " + MAX_COMPARE_PROMPTS);
        }
        int k = r.getTopK() == 0 ? 5 : PromptRequests.inRange("top_k", r.getTopK(), 1, 100);
        CompareResponse.Builder out = CompareResponse.newBuilder().setModel(name).setCheckpointA(a.checkpoint())
                .setCheckpointB(b.checkpoint());
        for (String prompt : r.getPromptsList()) {
            int[] tokens = PromptRequests.promptTokens(a.model(), prompt, config.maxPromptTokens());
            NextTokenDistribution pa = Predictions.next(a.model(), tokens);
            NextTokenDistribution pb = Predictions.next(b.model(), tokens);
            out.addPrompts(PromptComparison.newBuilder().setPrompt(prompt)
                    .addAllTopA(top(a.model(), pa, k)).addAllTopB(top(b.model(), pb, k))
                    .setKl(Verifier.kl(pa, pb)).setSameTop1(pa.argmax() == pb.argmax()));
        }
        return out.build();
    }

    private static List<TokenCandidate> top(Model model, NextTokenDistribution d, int k) {
        return EditMapper.candidates(d.topK(k, model.tokenizer()::tokenString));
    }
}
