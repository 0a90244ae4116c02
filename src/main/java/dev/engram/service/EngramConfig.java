package dev.engram.service;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Map;

/** Server configuration: which models exist and which one requests without a model name get. */
@ConfigMapping(prefix = "engram")
public interface EngramConfig {
    /** The model used when a request leaves {@code model} empty. */
    String defaultModel();

    /** Model name → where its files are. */
    Map<String, ModelSource> models();

    /** Largest number of new tokens one Generate call may ask for. */
    @WithDefault("1024")
    int maxNewTokens();

    /**
     * Longest prompt + target (in tokens) one LocateFact may attribute. A full trace keeps every layer's attention
     * pattern (O(T²)) and residuals (O(T·d)); this bound keeps a request's peak memory within 2× the model's F32 size
     * (BENCHMARKS.md measures it at this length).
     */
    @WithDefault("256")
    int attributionMaxTokens();

    /** Limits and fixtures of the edit service. */
    Editing editing();

    interface Editing {
        /** Most paraphrases one edit request may carry. */
        @WithDefault("20")
        int maxParaphrases();

        /** Most neighbour prompts one edit request may carry. */
        @WithDefault("20")
        int maxNeighbours();

        /** Where each model's sentinel prompts live, as {@code <model>.txt} (one prompt a line). */
        @WithDefault("editing/sentinels")
        String sentinelsDir();
    }

    interface ModelSource {
        /** An HF directory (config.json + safetensors) or a llama2.c directory (model .bin + tok*.bin). */
        String path();
    }
}
