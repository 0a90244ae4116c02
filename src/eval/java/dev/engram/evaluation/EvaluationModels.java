package dev.engram.evaluation;

import ai.djl.ndarray.NDManager;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.ModelLoader;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The models an evaluation command names: {@code name=path}, or a known name at its default place (smollm2 where
 * {@code models/fetch-smollm2.sh} puts it; stories260K under {@code -Dshared.models.dir}, default ../shared/models).
 */
public final class EvaluationModels {
    private EvaluationModels() {
    }

    public static Model load(String spec) throws IOException {
        int eq = spec.indexOf('=');
        String name = eq < 0 ? spec : spec.substring(0, eq);
        Path path = eq >= 0 ? Path.of(spec.substring(eq + 1)) : switch (name) {
            case "smollm2" -> Path.of("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
            case "stories260K" -> Path.of(System.getProperty("shared.models.dir", "../shared/models"), "stories260K");
            default -> throw new IllegalArgumentException("unknown model " + name + "; give name=path");
        };
        return ModelLoader.load(name, path, NDManager.newBaseManager(dev.engram.runtime.ComputeDevice.selected()));
    }
}
