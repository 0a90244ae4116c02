package dev.engram.runtime.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.load.gguf.GgufCheckpoint;
import dev.engram.runtime.load.gguf.GgufFile;
import dev.engram.runtime.load.gguf.GgufTokenizerJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The tokenizer half of a Hugging Face export: {@code tokenizer.json}, {@code tokenizer_config.json} and
 * {@code generation_config.json}, from the model's source files. An HF source's files are copied; a GGUF source's
 * tokenizer.json is rebuilt from its {@code tokenizer.ggml.*} metadata and the two configs from its special tokens.
 * A llama2.c tokenizer has no HF form here: UnsupportedOperationException.
 */
public final class HfTokenizerFiles {
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String GENERATION_CONFIG = "generation_config.json";
    private static final List<String> COPIED = List.of(HfCheckpoint.TOKENIZER_FILE, TOKENIZER_CONFIG,
            "special_tokens_map.json", GENERATION_CONFIG);

    private HfTokenizerFiles() {
    }

    public static void write(Path source, ModelConfig config, Path dir) throws IOException {
        if (GgufCheckpoint.isGguf(source)) {
            fromGguf(new GgufFile(source), config, dir);
        } else if (HfCheckpoint.isHfDirectory(source) && Files.exists(source.resolve(HfCheckpoint.TOKENIZER_FILE))) {
            for (String name : COPIED) {
                if (Files.exists(source.resolve(name))) {
                    AtomicFiles.writeString(dir.resolve(name), Files.readString(source.resolve(name)));
                }
            }
            if (!Files.exists(dir.resolve(TOKENIZER_CONFIG))) {
                writeJson(dir.resolve(TOKENIZER_CONFIG), new ObjectMapper().createObjectNode()
                        .put("tokenizer_class", "PreTrainedTokenizerFast").put("model_max_length", config.maxSeqLen()));
            }
            if (!Files.exists(dir.resolve(GENERATION_CONFIG))) {
                // transformers' own default when a checkpoint has none: take the special tokens from config.json
                writeJson(dir.resolve(GENERATION_CONFIG), new ObjectMapper().createObjectNode()
                        .put("_from_model_config", true));
            }
        } else {
            throw new UnsupportedOperationException("the model's source " + source.getFileName()
                    + " has no tokenizer that Hugging Face can load (llama2.c tokenizers are not converted); "
                    + "export needs a GGUF or HF source");
        }
    }

    private static void fromGguf(GgufFile gguf, ModelConfig config, Path dir) throws IOException {
        if (!GgufTokenizerJson.hasTokenizer(gguf)) {
            throw new UnsupportedOperationException("the GGUF file has no tokenizer");
        }
        AtomicFiles.writeString(dir.resolve(HfCheckpoint.TOKENIZER_FILE), GgufTokenizerJson.build(gguf));
        List<String> tokens = gguf.list("tokenizer.ggml.tokens");
        ObjectMapper json = new ObjectMapper();
        ObjectNode tokenizer = json.createObjectNode().put("tokenizer_class", "PreTrainedTokenizerFast")
                .put("model_max_length", config.maxSeqLen()).put("clean_up_tokenization_spaces", false);
        ObjectNode generation = json.createObjectNode();
        for (String role : List.of("bos", "eos", "unknown", "padding")) {
            String key = "tokenizer.ggml." + role + "_token_id";
            if (gguf.has(key)) {
                int id = (int) gguf.integer(key);
                String hfRole = switch (role) {
                    case "unknown" -> "unk";
                    case "padding" -> "pad";
                    default -> role;
                };
                tokenizer.put(hfRole + "_token", tokens.get(id));
                generation.put(hfRole + "_token_id", id);
            }
        }
        if (gguf.has("tokenizer.chat_template")) {
            tokenizer.put("chat_template", gguf.string("tokenizer.chat_template"));
        }
        writeJson(dir.resolve(TOKENIZER_CONFIG), tokenizer);
        writeJson(dir.resolve(GENERATION_CONFIG), generation);
    }

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        AtomicFiles.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(node));
    }
}
