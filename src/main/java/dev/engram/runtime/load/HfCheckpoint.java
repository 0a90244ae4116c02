package dev.engram.runtime.load;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.tokenizer.HfTokenizer;
import dev.engram.runtime.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A Hugging Face model directory: config.json, safetensors weights (one file or shards) and tokenizer.json. */
public final class HfCheckpoint {
    public static final String CONFIG_FILE = "config.json";
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private HfCheckpoint() {
    }

    public static boolean isHfDirectory(Path dir) {
        return Files.isDirectory(dir) && Files.exists(dir.resolve(CONFIG_FILE));
    }

    /** Loads the directory with its matrices in their stored precision ({@link WeightStorage#STORED}). */
    public static Model load(String name, Path dir, NDManager parent) throws IOException {
        return load(name, dir, parent, WeightStorage.STORED);
    }

    public static Model load(String name, Path dir, NDManager parent, WeightStorage storage) throws IOException {
        ModelConfig config = HfConfig.read(dir.resolve(CONFIG_FILE));
        SafetensorsCheckpoint tensors = new SafetensorsCheckpoint(dir);
        NDManager manager = parent.newSubManager();
        try {
            ModelWeights weights = HfConfig.usesGpt2Layout(config.family())
                    ? HfGpt2Layout.load(tensors, config, manager, storage)
                    : LlamaLayout.load(tensors, config, manager, LlamaTensorNames.HF, storage);
            TextTokenizer tokenizer = Files.exists(dir.resolve(TOKENIZER_FILE))
                    ? HfTokenizer.load(dir.resolve(TOKENIZER_FILE), config.family())
                    : null;
            return new Model(name, config, weights, tokenizer);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Writes the model's effective weights (an edited view's with its delta applied) in the HF layout that
     * {@code transformers} loads unchanged, as {@code shards} files of {@code dtype}. An adjacent-pair (llama2.c / GGUF)
     * model is written with its q/k rows permuted to rotate-half.
     */
    public static void save(Model model, Path dir, Dtype dtype, int shards) throws IOException {
        ModelConfig config = model.config();
        Files.createDirectories(dir);
        SafetensorsWriter all = new SafetensorsWriter();
        boolean qkvBias = !HfConfig.usesGpt2Layout(config.family()) && model.weights().base().layer(0).bQ() != null;
        ObjectMapper json = new ObjectMapper();
        // the layouts give suppliers that read the weights while the files are written: the copies stay open till then
        try (NDManager copies = model.weights().manager().newSubManager()) {
            ModelWeights weights = model.delta().isEmpty() ? model.weights().base()
                    : model.weights().materialize(copies);
            if (HfConfig.usesGpt2Layout(config.family())) {
                HfGpt2Layout.export(weights, config, all);
            } else {
                HfLlamaLayout.export(weights, config, all);
            }
            if (shards <= 1) {
                all.write(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE), dtype);
            } else {
                List<SafetensorsWriter> parts = all.shards(shards);
                ObjectNode index = json.createObjectNode();
                ObjectNode weightMap = index.putObject("weight_map");
                for (int i = 0; i < parts.size(); i++) {
                    String file = String.format("model-%05d-of-%05d.safetensors", i + 1, parts.size());
                    parts.get(i).write(dir.resolve(file), dtype);
                    for (String name : parts.get(i).names()) {
                        weightMap.put(name, file);
                    }
                }
                AtomicFiles.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE),
                        json.writerWithDefaultPrettyPrinter().writeValueAsString(index));
            }
        }
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE),
                json.writerWithDefaultPrettyPrinter().writeValueAsString(HfConfig.write(config, qkvBias)));
    }
}
