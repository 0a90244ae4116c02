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
            // consecutive requests on one model view share a traced forward pass, a few hundred tokens at a time
            for (int first = 0; first < checked.size() && !emitter.isCancelled(); ) {
                int end = groupEnd(checked, first);
                List<LocateFactResponse> results = runTogether(checked.subList(first, end));
                for (int i = first; i < end; i++) {
                    emitter.emit(LocateFactsResponse.newBuilder().setIndex(i).setCompleted(i + 1)
                            .setTotal(checked.size()).setResult(results.get(i - first)).build());
                }
                first = end;
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
                        + limit + " (ENGRAM_ATTRIBUTION_MAX_TOKENS, engram.attribution-max-tokens)");
            }
            int[] target = null;
            if (!r.getTarget().isEmpty()) {
                target = model.tokenizer().encodeContinuation(r.getTarget());
                if (target.length == 0) {
                    throw GrpcErrors.invalid("target", "'" + r.getTarget() + "' tokenizes to no tokens");
                }
                if (prompt.length + target.length - 1 > limit) {
                    throw GrpcErrors.invalid("target", "prompt and target are " + (prompt.length + target.length - 1)
                            + " tokens; LocateFact attributes at most " + limit + " (ENGRAM_ATTRIBUTION_MAX_TOKENS, engram.attribution-max-tokens)");
                }
            }
            int tokens = target == null ? 1 : target.length;
            long neurons = (long) (options.topValueNeurons() + options.topQueryNeurons()) * tokens;
            if (neurons > config.maxResponseNeurons()) {
                throw GrpcErrors.invalid("top_k", "(top_k + top_query_neurons) × " + tokens + " attributed token(s) is "
                        + neurons + " neurons; one response holds at most " + config.maxResponseNeurons()
                        + " (ENGRAM_MAX_RESPONSE_NEURONS, engram.max-response-neurons)");
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

    /** Prompt + target tokens one shared LocateFacts pass traces at most (the single-request bound's default). */
    private static final int SHARED_PASS_TOKENS = 256;

    /**
     * The end of the group of requests from {@code first} that share a forward pass: the same model view (name and
     * checkpoint), at most {@value #SHARED_PASS_TOKENS} traced tokens together (a request longer than that alone).
     */
    private static int groupEnd(List<Checked> checked, int first) {
        int tokens = 0;
        int end = first;
        while (end < checked.size() && checked.get(end).ref().equals(checked.get(first).ref())) {
            Checked c = checked.get(end);
            tokens += c.prompt().length + (c.target() == null ? 0 : c.target().length - 1);
            if (end > first && tokens > SHARED_PASS_TOKENS) {
                break;
            }
            end++;
        }
        return end;
    }

    /** Attributes a group of requests on one model view from one packed forward pass, in one heavy slot. */
    private List<LocateFactResponse> runTogether(List<Checked> group) {
        Checked first = group.get(0);
        return admission.run(first.ref().getName(), AdmissionControl.Lane.HEAVY, () -> {
            List<dev.engram.attribution.AttributionResult> results = new Attributor(first.model()).attributeAll(
                    group.stream().map(c -> new Attributor.Query(c.prompt(), c.target(), c.options())).toList());
            List<LocateFactResponse> out = new ArrayList<>();
            for (int i = 0; i < group.size(); i++) {
                out.add(AttributionMapper.response(results.get(i), group.get(i).ref(), group.get(i).charts()));
            }
            return out;
        });
    }

    /** Attributes in a heavy slot of the request's model. */
    private LocateFactResponse run(Checked c) {
        return admission.run(c.ref().getName(), AdmissionControl.Lane.HEAVY, () -> AttributionMapper.response(
                new Attributor(c.model()).attribute(c.prompt(), c.target(), c.options()), c.ref(), c.charts()));
    }
}
