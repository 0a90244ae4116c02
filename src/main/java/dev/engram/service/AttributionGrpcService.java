package dev.engram.service;

import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.grpc.v1.MutinyAttributionServiceGrpc;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.LocateFactResponse;
import dev.engram.grpc.v1.LocateFactsResponse;
import dev.engram.grpc.v1.LocateFactsRequest;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.runtime.Model;
import io.grpc.Context;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import java.util.ArrayList;
import java.util.List;

/** LocateFact and its streaming batch form. Every request is validated in full before any model work. */
@GrpcService
public class AttributionGrpcService extends MutinyAttributionServiceGrpc.AttributionServiceImplBase {
    /** Largest batch one LocateFacts call may carry. */

    private final ModelViews views;
    private final EngramConfig config;
    private final AdmissionControl admission;

    public AttributionGrpcService(ModelViews views, EngramConfig config, AdmissionControl admission) {
        this.views = views;
        this.admission = admission;
        this.config = config;
    }

    /** A request checked and tokenized, ready to run. */
    private record Checked(Model model, int[] prompt, int[] target, AttributionOptions options, ModelRef ref,
            boolean charts) {
    }

    /** Requests that do not parse get INVALID_ARGUMENT (see {@link RequestDecoding}). */
    @Override
    public io.grpc.ServerServiceDefinition bindService() {
        return RequestDecoding.guarded(super.bindService());
    }

    @Override
    @Blocking
    public Uni<LocateFactResponse> locateFact(LocateFactRequest request) {
        return Uni.createFrom().item(() -> GrpcErrors.call(() -> run(check(request, ""))));
    }

    @Override
    public Multi<LocateFactsResponse> locateFacts(LocateFactsRequest request) {
        Context context = Context.current();
        return Multi.createFrom().<LocateFactsResponse>emitter(emitter -> GrpcErrors.stream(context, emitter, () -> {
            if (request.getRequestsCount() == 0 || request.getRequestsCount() > config.maxBatch()) {
                throw GrpcErrors.invalid("requests", "must hold 1 to " + config.maxBatch()
                        + " requests (engram.max-batch), got " + request.getRequestsCount());
            }
            List<Checked> checked = new ArrayList<>();
            for (int i = 0; i < request.getRequestsCount(); i++) {
                checked.add(check(request.getRequests(i), "requests[" + i + "]."));
            }
            for (int i = 0; i < checked.size() && !emitter.isCancelled(); i++) {
                emitter.emit(LocateFactsResponse.newBuilder().setIndex(i).setCompleted(i + 1)
                        .setTotal(checked.size()).setResult(run(checked.get(i))).build());
            }
        })).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    private Checked check(LocateFactRequest r, String prefix) {
        try {
            ModelViews.View view = views.resolve(r.getModel());
            Model model = view.model();
            AttributionOptions options = AttributionMapper.options(r);
            int[] prompt = PromptRequests.promptTokens(model, r.getPrompt(), config.maxPromptTokens());
            int limit = Math.min(model.config().maxSeqLen(), config.attributionMaxTokens());
            if (prompt.length > limit) {
                throw GrpcErrors.invalid("prompt", "is " + prompt.length + " tokens; LocateFact attributes at most "
                        + limit + " (engram.attribution-max-tokens)");
            }
            int[] target = null;
            if (!r.getTarget().isEmpty()) {
                target = model.tokenizer().encodeContinuation(r.getTarget());
                if (target.length == 0) {
                    throw GrpcErrors.invalid("target", "'" + r.getTarget() + "' tokenizes to no tokens");
                }
                if (prompt.length + target.length - 1 > limit) {
                    throw GrpcErrors.invalid("target", "prompt and target are " + (prompt.length + target.length - 1)
                            + " tokens; LocateFact attributes at most " + limit + " (engram.attribution-max-tokens)");
                }
            }
            int tokens = target == null ? 1 : target.length;
            long neurons = (long) (options.topValueNeurons() + options.topQueryNeurons()) * tokens;
            if (neurons > config.maxResponseNeurons()) {
                throw GrpcErrors.invalid("top_k", "(top_k + top_query_neurons) × " + tokens + " attributed token(s) is "
                        + neurons + " neurons; one response holds at most " + config.maxResponseNeurons()
                        + " (engram.max-response-neurons)");
            }
            return new Checked(model, prompt, target, options, view.ref(),
                    r.getOptions().getRenderCharts());
        } catch (io.grpc.StatusRuntimeException e) {
            if (prefix.isEmpty()) {
                throw e;
            }
            if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                throw GrpcErrors.invalidMessage(prefix + e.getStatus().getDescription());
            }
            throw e.getStatus().withDescription(prefix + e.getStatus().getDescription()).asRuntimeException();
        }
    }

    /** Attributes in a heavy slot of the request's model. */
    private LocateFactResponse run(Checked c) {
        return admission.run(c.ref().getName(), AdmissionControl.Lane.HEAVY, () -> AttributionMapper.response(
                new Attributor(c.model()).attribute(c.prompt(), c.target(), c.options()), c.ref(), c.charts()));
    }
}
