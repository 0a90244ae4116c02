package dev.engram.service.security;

import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ModelServiceGrpc;
import io.grpc.MethodDescriptor;
import java.util.Map;
import java.util.Optional;

/**
 * The scope each RPC needs. Health checks and reflection need none; a method not listed here needs {@code admin}, so
 * that an RPC added later is closed until someone decides otherwise.
 */
public final class MethodScopes {
    private static final Map<String, AccessScope> SCOPES = Map.ofEntries(
            Map.entry(name(ModelServiceGrpc.getListModelsMethod()), AccessScope.READ),
            Map.entry(name(ModelServiceGrpc.getPredictMethod()), AccessScope.READ),
            Map.entry(name(ModelServiceGrpc.getGenerateMethod()), AccessScope.READ),
            Map.entry(name(ModelServiceGrpc.getTokenizeMethod()), AccessScope.READ),
            Map.entry(name(ModelServiceGrpc.getGetActivationsMethod()), AccessScope.READ),
            Map.entry(name(AttributionServiceGrpc.getLocateFactMethod()), AccessScope.READ),
            Map.entry(name(AttributionServiceGrpc.getLocateFactsMethod()), AccessScope.READ),
            Map.entry(name(EditServiceGrpc.getListCheckpointsMethod()), AccessScope.READ),
            Map.entry(name(EditServiceGrpc.getGetCheckpointMethod()), AccessScope.READ),
            Map.entry(name(EditServiceGrpc.getDiffMethod()), AccessScope.READ),
            Map.entry(name(EditServiceGrpc.getCompareMethod()), AccessScope.READ),
            Map.entry(name(EditServiceGrpc.getProposeEditMethod()), AccessScope.EDIT),
            Map.entry(name(EditServiceGrpc.getApplyEditMethod()), AccessScope.EDIT),
            Map.entry(name(EditServiceGrpc.getBatchEditMethod()), AccessScope.EDIT),
            Map.entry(name(EditServiceGrpc.getRollbackMethod()), AccessScope.ADMIN),
            Map.entry(name(EditServiceGrpc.getExportCheckpointMethod()), AccessScope.ADMIN));

    private MethodScopes() {
    }

    private static String name(MethodDescriptor<?, ?> method) {
        return method.getFullMethodName();
    }

    /** Whether the method has a scope of its own (rather than the default, admin). */
    static boolean listed(String fullMethodName) {
        return SCOPES.containsKey(fullMethodName);
    }

    /** The scope {@code fullMethodName} needs; empty for the open services (health, reflection). */
    public static Optional<AccessScope> required(String fullMethodName) {
        if (fullMethodName.startsWith("grpc.health.v1.") || fullMethodName.startsWith("grpc.reflection.")) {
            return Optional.empty();
        }
        return Optional.of(SCOPES.getOrDefault(fullMethodName, AccessScope.ADMIN));
    }
}
