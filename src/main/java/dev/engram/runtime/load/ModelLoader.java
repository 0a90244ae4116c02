package dev.engram.runtime.load;

import ai.djl.ndarray.NDManager;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.gguf.GgufCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Loads a model from a path, whatever its format: a GGUF file, an HF directory, or a llama2.c directory. */
public final class ModelLoader {
    private ModelLoader() {
    }

    /** Loads the model with a half-precision checkpoint's matrices kept in half precision. */
    public static Model load(String name, Path path, NDManager parent) throws IOException {
        return load(name, path, parent, WeightStorage.STORED);
    }

    /** Loads the model; {@code storage} says how an HF checkpoint's F16 / BF16 matrices are held. */
    public static Model load(String name, Path path, NDManager parent, WeightStorage storage) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("model path " + path + " does not exist");
        }
        if (GgufCheckpoint.isGguf(path)) {
            return GgufCheckpoint.load(name, path, parent);
        }
        if (HfCheckpoint.isHfDirectory(path)) {
            return HfCheckpoint.load(name, path, parent, storage);
        }
        if (Files.isDirectory(path)) {
            Path checkpoint = single(path, "checkpoint", f -> f.endsWith(".bin") && !f.startsWith("tok"));
            Path tokenizer = single(path, "tokenizer", f -> f.startsWith("tok") && f.endsWith(".bin"));
            return Llama2cCheckpoint.load(name, checkpoint, tokenizer, parent);
        }
        throw new IOException(path + " is neither a .gguf file, an HF model directory (config.json) nor a llama2.c directory");
    }

    private static Path single(Path dir, String what, java.util.function.Predicate<String> match) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> found = files.filter(p -> match.test(p.getFileName().toString())).sorted().toList();
            if (found.size() != 1) {
                throw new IOException(dir + " must hold exactly one llama2.c " + what + " file, found " + found);
            }
            return found.get(0);
        }
    }
}
