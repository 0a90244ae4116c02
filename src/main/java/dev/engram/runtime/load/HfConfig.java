package dev.engram.runtime.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelFamily;
import dev.engram.runtime.RopeLayout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/** A Hugging Face {@code config.json} ↔ {@link ModelConfig}, for gpt2 and the llama-shaped model types. */
public final class HfConfig {
    private static final Set<String> LLAMA_TYPES = Set.of("llama", "mistral", "qwen2");
    /** Non-standard key for files whose q/k rows use adjacent rotary pairs; HF itself never writes it. */
    static final String ROPE_LAYOUT_KEY = "engram_rope_layout";

    private HfConfig() {
    }

    public static ModelConfig read(Path file) throws IOException {
        return parse(new ObjectMapper().readTree(file.toFile()));
    }

    public static ModelConfig parse(JsonNode c) {
        String type = c.path("model_type").asText("");
        if (type.equals("gpt2")) {
            String act = c.path("activation_function").asText("gelu_new");
            if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
                throw new IllegalArgumentException("GPT-2 activation " + act + " is not supported (gelu_new only)");
            }
            int d = required(c, "n_embd");
            int heads = required(c, "n_head");
            int inner = c.path("n_inner").isNumber() ? c.get("n_inner").asInt() : 4 * d;
            return new ModelConfig(ModelFamily.GPT2, d, required(c, "n_layer"), heads, heads, d / heads, inner,
                    required(c, "vocab_size"), required(c, "n_positions"), c.path("layer_norm_epsilon").asDouble(1e-5),
                    0, RopeLayout.HALF, c.path("tie_word_embeddings").asBoolean(true));
        }
        if (LLAMA_TYPES.contains(type)) {
            String act = c.path("hidden_act").asText("silu");
            if (!act.equals("silu")) {
                throw new IllegalArgumentException(type + " activation " + act + " is not supported (silu only)");
            }
            if (c.hasNonNull("rope_scaling")) {
                throw new IllegalArgumentException("rope_scaling is not supported: " + c.get("rope_scaling"));
            }
            int d = required(c, "hidden_size");
            int heads = required(c, "num_attention_heads");
            int kvHeads = c.path("num_key_value_heads").asInt(heads);
            int headDim = c.path("head_dim").isNumber() ? c.get("head_dim").asInt() : d / heads;
            RopeLayout layout = c.path(ROPE_LAYOUT_KEY).asText("half").equals("adjacent")
                    ? RopeLayout.ADJACENT : RopeLayout.HALF;
            return new ModelConfig(ModelFamily.LLAMA, d, required(c, "num_hidden_layers"), heads, kvHeads, headDim,
                    required(c, "intermediate_size"), required(c, "vocab_size"),
                    c.path("max_position_embeddings").asInt(2048), c.path("rms_norm_eps").asDouble(1e-6),
                    c.path("rope_theta").asDouble(10000), layout, c.path("tie_word_embeddings").asBoolean(false));
        }
        throw new IllegalArgumentException("model_type '" + type + "' is not supported (gpt2, llama, mistral, qwen2)");
    }

    /** The config.json that {@code transformers} reads for this model (always the rotate-half RoPE layout). */
    public static ObjectNode write(ModelConfig m, boolean qkvBias) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        if (m.family() == ModelFamily.GPT2) {
            c.putArray("architectures").add("GPT2LMHeadModel");
            c.put("model_type", "gpt2");
            c.put("n_embd", m.dModel()).put("n_layer", m.nLayers()).put("n_head", m.nHeads());
            c.put("n_inner", m.dFfn()).put("vocab_size", m.vocabSize()).put("n_positions", m.maxSeqLen());
            c.put("n_ctx", m.maxSeqLen()).put("layer_norm_epsilon", m.normEps());
            c.put("activation_function", "gelu_new").put("tie_word_embeddings", true);
            c.put("bos_token_id", m.vocabSize() - 1).put("eos_token_id", m.vocabSize() - 1);
        } else {
            c.putArray("architectures").add(qkvBias ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
            c.put("model_type", qkvBias ? "qwen2" : "llama");
            c.put("hidden_size", m.dModel()).put("num_hidden_layers", m.nLayers());
            c.put("num_attention_heads", m.nHeads()).put("num_key_value_heads", m.nKvHeads());
            c.put("head_dim", m.headDim()).put("intermediate_size", m.dFfn()).put("vocab_size", m.vocabSize());
            c.put("max_position_embeddings", m.maxSeqLen()).put("rms_norm_eps", m.normEps());
            c.put("rope_theta", m.ropeTheta()).put("hidden_act", "silu");
            c.put("tie_word_embeddings", m.tiedEmbeddings()).put("attention_bias", qkvBias);
        }
        c.put("torch_dtype", "float32");
        return c;
    }

    private static int required(JsonNode c, String key) {
        if (!c.path(key).isNumber()) {
            throw new IllegalArgumentException("config.json lacks the number " + key);
        }
        return c.get(key).asInt();
    }
}
