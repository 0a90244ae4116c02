package dev.engram.service;

import dev.engram.grpc.v1.ActivationsRequest;
import dev.engram.grpc.v1.ActivationsResponse;
import dev.engram.grpc.v1.GenerateRequest;
import dev.engram.grpc.v1.GenerateResponse;
import dev.engram.grpc.v1.ListModelsRequest;
import dev.engram.grpc.v1.ListModelsResponse;
import dev.engram.grpc.v1.ModelInfo;
import dev.engram.grpc.v1.MutinyModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.PredictResponse;
import dev.engram.grpc.v1.TokenCandidate;
import dev.engram.grpc.v1.TokenizeRequest;
import dev.engram.grpc.v1.TokenizeResponse;
import dev.engram.inference.NextTokenBatcher;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import io.quarkus.grpc.GrpcService;
import io.grpc.Context;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import java.util.Arrays;
import java.util.Map;

/** ListModels, Predict, Generate, Tokenize and GetActivations. Model work runs on worker threads, never on the gRPC event loop. */
@GrpcService
public class ModelGrpcService extends MutinyModelServiceGrpc.ModelServiceImplBase {
    private static final int DEFAULT_NEW_TOKENS = 32;
    /** Prompt tokens one shared Predict pass packs at most (its attention scores grow with the square). */
    private static final int PREDICT_BATCH_TOKENS = 512;
    /** One batcher per model view (name@checkpoint): concurrent Predicts on it share forward passes. */
    private final Map<String, NextTokenBatcher> batchers = new java.util.concurrent.ConcurrentHashMap<>();

    private final ModelRegistry registry;
    private final ModelViews views;
    private final EngramConfig config;
    private final AdmissionControl admission;

    public ModelGrpcService(ModelRegistry registry, ModelViews views, EngramConfig config,
            AdmissionControl admission) {
        this.admission = admission;
        this.registry = registry;
        this.views = views;
        this.config = config;
    }

    /** Requests that do not parse get INVALID_ARGUMENT (see {@link RequestDecoding}). */
    @Override
    public io.grpc.ServerServiceDefinition bindService() {
        return RequestDecoding.guarded(super.bindService());
    }

    @Override
    @Blocking
    public Uni<ListModelsResponse> listModels(ListModelsRequest request) {
        ListModelsResponse.Builder out = ListModelsResponse.newBuilder();
        for (Map.Entry<String, EngramConfig.ModelSource> e : registry.sources().entrySet()) {
            ModelInfo.Builder info = ModelInfo.newBuilder()
                    .setName(e.getKey())
                    .setSource(java.nio.file.Path.of(e.getValue().path()).getFileName().toString())
                    .setIsDefault(e.getKey().equals(registry.defaultModel()))
                    .setLoaded(registry.isLoaded(e.getKey()));
            if (registry.isLoaded(e.getKey())) {
                describe(info, registry.get(e.getKey()).config());
            }
            out.addModels(info);
        }
        return Uni.createFrom().item(out.build());
    }

    private static void describe(ModelInfo.Builder info, ModelConfig c) {
        info.setFamily(c.family().name()).setDModel(c.dModel()).setNLayers(c.nLayers()).setNHeads(c.nHeads())
                .setNKvHeads(c.nKvHeads()).setHeadDim(c.headDim()).setDFfn(c.dFfn()).setVocabSize(c.vocabSize())
                .setContextLength(c.maxSeqLen());
    }

    @Override
    @Blocking
    public Uni<TokenizeResponse> tokenize(TokenizeRequest request) {
        return Uni.createFrom().item(() -> GrpcErrors.call(() -> admission.run(request.getModel().getName(),
                AdmissionControl.Lane.QUICK, () -> {
                    ModelViews.View view = views.resolve(request.getModel());
                    Model model = view.model();
                    int[] ids = PromptRequests.promptTokens(model, request.getText(), config.maxPromptTokens());
                    TokenizeResponse.Builder out = TokenizeResponse.newBuilder().setModel(view.ref());
                    for (int id : ids) {
                        out.addIds(id).addTokens(model.tokenizer().decode(new int[] {id}));
                    }
                    return out.build();
                })));
    }

    /** A traced pass: the heavy lane, as LocateFact. */
    @Override
    @Blocking
    public Uni<ActivationsResponse> getActivations(ActivationsRequest request) {
        return Uni.createFrom().item(() -> GrpcErrors.call(() -> admission.run(request.getModel().getName(),
                AdmissionControl.Lane.HEAVY, () -> ActivationReads.read(views.resolve(request.getModel()), request,
                        config))));
    }

    @Override
    @Blocking
    public Uni<PredictResponse> predict(PredictRequest request) {
        return Uni.createFrom().item(() -> GrpcErrors.call(() -> admission.run(request.getModel().getName(),
                AdmissionControl.Lane.QUICK, () -> predictNow(request))));
    }

    private PredictResponse predictNow(PredictRequest request) {
        ModelViews.View view = views.resolve(request.getModel());
        Model model = view.model();
        int k = PromptRequests.inRange("top_k", PromptRequests.orDefault(request.getTopK(), PromptRequests.DEFAULT_TOP_K),
                1, model.config().vocabSize());
        int[] tokens = PromptRequests.promptTokens(model, request.getPrompt(), config.maxPromptTokens());
        NextTokenDistribution next = new NextTokenDistribution(batchers.computeIfAbsent(
                view.ref().getName() + "@" + view.checkpoint(), key -> new NextTokenBatcher(PREDICT_BATCH_TOKENS, config.predictRunners()))
                .lastLogits(model, tokens));
        PredictResponse.Builder out = PredictResponse.newBuilder()
                .setModel(view.ref());
        Arrays.stream(tokens).forEach(out::addPromptTokenIds);
        for (TokenProbability t : next.topK(k, model.tokenizer()::tokenString)) {
            out.addCandidates(TokenCandidate.newBuilder().setId(t.id()).setText(t.text())
                    .setProbability(t.probability()).setLogProbability(t.logProbability()));
        }
        return out.build();
    }

    @Override
    public Multi<GenerateResponse> generate(GenerateRequest request) {
        Context context = Context.current();
        return Multi.createFrom().<GenerateResponse>emitter(emitter -> GrpcErrors.stream(context, emitter,
                () -> admission.run(request.getModel().getName(), AdmissionControl.Lane.QUICK,
                        () -> generateNow(request, emitter)))).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    private Void generateNow(GenerateRequest request, MultiEmitter<? super GenerateResponse> emitter) {
        Model model = views.resolve(request.getModel()).model();
        int limit = request.getMaxNewTokens() == 0 ? DEFAULT_NEW_TOKENS
                : PromptRequests.inRange("max_new_tokens", request.getMaxNewTokens(), 1, config.maxNewTokens());
        int[] prompt = PromptRequests.promptTokens(model, request.getPrompt(), config.maxPromptTokens());
        new TokenStreamer(model, prompt).stream(limit, token -> {
            emitter.emit(token);
            return !emitter.isCancelled();
        });
        return null;
    }
}
