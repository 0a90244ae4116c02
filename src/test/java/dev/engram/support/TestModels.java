package dev.engram.support;

import ai.djl.ndarray.NDManager;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.ModelLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared test models (../shared/models, or -Dshared.models.dir / SHARED_MODELS_DIR). */
public final class TestModels {
    private static final NDManager ROOT = NDManager.newBaseManager();

    private TestModels() {
    }

    public static NDManager root() {
        return ROOT;
    }

    public static Path sharedModels() {
        String configured = System.getProperty("shared.models.dir", System.getenv("SHARED_MODELS_DIR"));
        Path dir = Path.of(configured != null ? configured : "../shared/models").toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("shared test models not found at " + dir
                    + " (set -Dshared.models.dir)");
        }
        return dir;
    }

    public static Path stories260KDir() {
        return sharedModels().resolve("stories260K");
    }

    public static Path gpt2TokenizerJson() {
        return sharedModels().resolve("gpt2-tokenizer/tokenizer.json");
    }

    private static Model smolLM2;

    /** SmolLM2-135M-Instruct (Q4_1 GGUF), fetched into models/ by the build; one shared instance per test JVM. */
    public static synchronized Model smolLM2() {
        if (smolLM2 == null) {
            Path file = Path.of(System.getProperty("smollm2.path",
                    "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"));
            if (!Files.exists(file)) {
                throw new IllegalStateException(file + " is missing: run bash models/fetch-smollm2.sh");
            }
            try {
                smolLM2 = ModelLoader.load("smollm2", file, ROOT);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return smolLM2;
    }

    private static Model sharedStories;

    /** One stories260K for the tests that only read it; never closed (the JVM ends with the tests). */
    public static synchronized Model sharedStories260K() {
        if (sharedStories == null) {
            sharedStories = stories260K();
        }
        return sharedStories;
    }

    /** A fresh stories260K that the caller owns and closes. */
    public static Model stories260K() {
        try {
            return ModelLoader.load("stories260K", stories260KDir(), ROOT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
