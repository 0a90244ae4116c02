package dev.engram.runtime.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.runtime.FeedForward;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelFamily;
import dev.engram.runtime.RopeLayout;
import dev.engram.runtime.family.GemmaFamily;
import dev.engram.runtime.family.Gpt2Family;
import dev.engram.runtime.family.LlamaFamily;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;

/**
 * A Hugging Face {@code config.json} ↔ {@link ModelConfig}: the loader's mapping from HF model types onto the
 * families of {@code dev.engram.runtime.family}. GPT-2 has keys of its own; every other type reads the Llama-shaped
 * keys (hidden_size, num_hidden_layers, …).
 */
public final class HfConfig {
    /** The model types read, and the family each belongs to. */
    private static final Map<String, ModelFamily> FAMILIES = Map.of(
            "gpt2", Gpt2Family.FAMILY,
            "llama", LlamaFamily.FAMILY,
            "mistral", LlamaFamily.FAMILY,
            "qwen2", LlamaFamily.FAMILY,
            "gemma", GemmaFamily.FAMILY);
    /** HF activation names and the non-linearity each is. */
    private static final Map<String, FeedForward.Activation> ACTIVATIONS = Map.of(
            "gelu_new", FeedForward.Activation.GELU_TANH,
            "gelu_pytorch_tanh", FeedForward.Activation.GELU_TANH,
            "silu", FeedForward.Activation.SILU);
    /** Non-standard key for files whose q/k rows use adjacent rotary pairs; HF itself never writes it. */
    static final String ROPE_LAYOUT_KEY = "engram_rope_layout";

    private HfConfig() {
    }

    public static ModelConfig read(Path file) throws IOException {
        return parse(new ObjectMapper().readTree(file.toFile()));
    }

    public static ModelConfig parse(JsonNode c) {
        String type = c.path("model_type").asText("");
        ModelFamily family = FAMILIES.get(type);
        if (family == null) {
            throw new IllegalArgumentException("model_type '" + type + "' is not supported ("
                    + String.join(", ", new TreeSet<>(FAMILIES.keySet())) + ")");
        }
        checkActivation(type, c, family);
        if (usesGpt2Layout(family)) {
            int d = required(c, "n_embd");
            int heads = required(c, "n_head");
            int inner = c.path("n_inner").isNumber() ? c.get("n_inner").asInt() : 4 * d;
            return new ModelConfig(family, d, required(c, "n_layer"), heads, heads, d / heads, inner,
                    required(c, "vocab_size"), required(c, "n_positions"), c.path("layer_norm_epsilon").asDouble(1e-5),
                    0, RopeLayout.HALF, c.path("tie_word_embeddings").asBoolean(true));
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
        return new ModelConfig(family, d, required(c, "num_hidden_layers"), heads, kvHeads, headDim,
                required(c, "intermediate_size"), required(c, "vocab_size"), context(c),
                c.path("rms_norm_eps").asDouble(1e-6), c.path("rope_theta").asDouble(10000), layout,
                c.path("tie_word_embeddings").asBoolean(family.scaledEmbeddings()));
    }

    /**
     * The context the runtime serves: max_position_embeddings, or the sliding window where attention has one
     * (Mistral's sliding_window; Qwen2's only with use_sliding_window). Up to the window, sliding-window attention is
     * plain causal attention, so serving no longer sequences keeps every result exact.
     */
    private static int context(JsonNode c) {
        int context = c.path("max_position_embeddings").asInt(2048);
        boolean windowed = c.path("sliding_window").isNumber() && c.path("use_sliding_window").asBoolean(true);
        return windowed ? Math.min(context, c.get("sliding_window").asInt()) : context;
    }

    /** The file's activation is the one its family computes. */
    private static void checkActivation(String type, JsonNode c, ModelFamily family) {
        FeedForward.Activation expected = family.feedForward().activation();
        String name = c.path("activation_function").asText(c.path("hidden_activation").asText(
                c.path("hidden_act").asText(expected == FeedForward.Activation.SILU ? "silu" : "gelu_pytorch_tanh")));
        if (type.equals("gemma") && name.equals("gelu")) {
            name = "gelu_pytorch_tanh"; // transformers runs Gemma's legacy hidden_act "gelu" as the tanh approximation
        }
        if (ACTIVATIONS.get(name) != expected) {
            throw new IllegalArgumentException(type + " activation " + name + " is not supported ("
                    + expected.name().toLowerCase(java.util.Locale.ROOT) + " only)");
        }
    }

    /** Whether a family's checkpoints use GPT-2's tensor names and Conv1D layout ({@link HfGpt2Layout}). */
    static boolean usesGpt2Layout(ModelFamily family) {
        return family == Gpt2Family.FAMILY;
    }

    /** The config.json that {@code transformers} reads for this model (always the rotate-half RoPE layout). */
    public static ObjectNode write(ModelConfig m, boolean qkvBias) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        if (usesGpt2Layout(m.family())) {
            c.putArray("architectures").add("GPT2LMHeadModel");
            c.put("model_type", "gpt2");
            c.put("n_embd", m.dModel()).put("n_layer", m.nLayers()).put("n_head", m.nHeads());
            c.put("n_inner", m.dFfn()).put("vocab_size", m.vocabSize()).put("n_positions", m.maxSeqLen());
            c.put("n_ctx", m.maxSeqLen()).put("layer_norm_epsilon", m.normEps());
            c.put("activation_function", "gelu_new").put("tie_word_embeddings", true);
            c.put("bos_token_id", m.vocabSize() - 1).put("eos_token_id", m.vocabSize() - 1);
        } else {
            boolean gemma = m.family() == GemmaFamily.FAMILY;
            String type = gemma ? "gemma" : qkvBias ? "qwen2" : "llama";
            c.putArray("architectures").add(switch (type) {
                case "gemma" -> "GemmaForCausalLM";
                case "qwen2" -> "Qwen2ForCausalLM";
                default -> "LlamaForCausalLM";
            });
            c.put("model_type", type);
            c.put("hidden_size", m.dModel()).put("num_hidden_layers", m.nLayers());
            c.put("num_attention_heads", m.nHeads()).put("num_key_value_heads", m.nKvHeads());
            c.put("head_dim", m.headDim()).put("intermediate_size", m.dFfn()).put("vocab_size", m.vocabSize());
            c.put("max_position_embeddings", m.maxSeqLen()).put("rms_norm_eps", m.normEps());
            c.put("rope_theta", m.ropeTheta());
            c.put(gemma ? "hidden_activation" : "hidden_act", gemma ? "gelu_pytorch_tanh" : "silu");
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
