package dev.engram.service;

import com.google.protobuf.ByteString;
import dev.engram.grpc.v1.Activation;
import dev.engram.grpc.v1.ActivationsRequest;
import dev.engram.grpc.v1.ActivationsResponse;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.HookPoint;
import dev.engram.trace.Trace;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** GetActivations: the request checked (hooks, positions, size) before any pass, then one traced pass read. */
final class ActivationReads {
    /** Most hook points one call may name. */
    static final int MAX_HOOKS = 64;

    private ActivationReads() {
    }

    static ActivationsResponse read(ModelViews.View view, ActivationsRequest r, EngramConfig config) {
        Model model = view.model();
        int[] tokens = PromptRequests.promptTokens(model, r.getPrompt(), config.maxPromptTokens());
        if (tokens.length > config.maxActivationTokens()) {
            throw GrpcErrors.invalid("prompt", "is " + tokens.length + " tokens; GetActivations keeps every hook point "
                    + "of its pass and takes at most " + config.maxActivationTokens() + " (ENGRAM_MAX_ACTIVATION_TOKENS)");
        }
        if (r.getHooksCount() == 0 || r.getHooksCount() > MAX_HOOKS) {
            throw GrpcErrors.invalid("hooks", "name 1 to " + MAX_HOOKS + " hook points, got " + r.getHooksCount()
                    + "; known: " + String.join(", ", HookPoint.NAMES));
        }
        List<HookPoint> hooks = new ArrayList<>();
        for (int i = 0; i < r.getHooksCount(); i++) {
            try {
                hooks.add(HookPoint.parse(r.getHooks(i), model.config()));
            } catch (IllegalArgumentException e) {
                throw GrpcErrors.invalid("hooks[" + i + "]", e.getMessage());
            }
        }
        int[] positions = positions(r, tokens.length);
        long floats = 0;
        for (HookPoint h : hooks) {
            long size = 1;
            for (long n : h.shape(model.config(), positions.length, tokens.length)) {
                size *= n;
            }
            floats += size;
        }
        if (floats > config.maxActivationFloats()) {
            throw GrpcErrors.invalid("hooks", "these hooks and positions hold " + floats + " values; one call gives at "
                    + "most " + config.maxActivationFloats() + " (ENGRAM_MAX_ACTIVATION_FLOATS): fewer hooks or positions");
        }
        ActivationsResponse.Builder out = ActivationsResponse.newBuilder().setModel(view.ref());
        for (int t : tokens) {
            out.addPromptTokenIds(t);
        }
        for (int p : positions) {
            out.addPositions(p);
        }
        try (Trace trace = ForwardPass.of(model).trace(tokens)) {
            for (HookPoint h : hooks) {
                float[] values = h.read(trace, positions);
                ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(values);
                Activation.Builder a = Activation.newBuilder().setHook(h.name()).addAllAxes(h.axes())
                        .setValues(ByteString.copyFrom(bytes.array()));
                for (long n : h.shape(model.config(), positions.length, tokens.length)) {
                    a.addShape(n);
                }
                out.addActivations(a);
            }
        }
        return out.build();
    }

    /** The request's positions, negative ones counted from the end; every position when it names none. */
    private static int[] positions(ActivationsRequest r, int tokens) {
        if (r.getPositionsCount() == 0) {
            return java.util.stream.IntStream.range(0, tokens).toArray();
        }
        int[] out = new int[r.getPositionsCount()];
        for (int i = 0; i < out.length; i++) {
            int p = r.getPositions(i);
            int at = p < 0 ? tokens + p : p;
            if (at < 0 || at >= tokens) {
                throw GrpcErrors.invalid("positions[" + i + "]", p + " is outside the prompt's " + tokens + " tokens");
            }
            out[i] = at;
        }
        return out;
    }
}
