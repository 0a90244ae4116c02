package dev.engram.runtime.load.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Rebuilds a Hugging Face tokenizer.json from a GGUF file's {@code tokenizer.ggml.*} metadata, for byte-level BPE
 * vocabularies ({@code tokenizer.ggml.model = gpt2}). The pre-tokenizer follows {@code tokenizer.ggml.pre} the way
 * llama.cpp does: {@code gpt2} is GPT-2's regex; {@code smollm} splits every digit first, then applies it.
 */
public final class GgufTokenizerJson {
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;

    private GgufTokenizerJson() {
    }

    public static boolean hasTokenizer(GgufFile gguf) {
        return gguf.has("tokenizer.ggml.model");
    }

    public static String build(GgufFile gguf) {
        String model = gguf.string("tokenizer.ggml.model");
        if (!model.equals("gpt2")) {
            throw new IllegalArgumentException("GGUF tokenizer model '" + model + "' is not supported (gpt2 byte-level BPE)");
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        List<String> tokens = gguf.list("tokenizer.ggml.tokens");
        List<Long> types = gguf.has("tokenizer.ggml.token_type") ? gguf.list("tokenizer.ggml.token_type") : List.of();
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < types.size(); id++) {
            int type = types.get(id).intValue();
            if (type == CONTROL || type == USER_DEFINED) {
                added.addObject().put("id", id).put("content", tokens.get(id)).put("single_word", false)
                        .put("lstrip", false).put("rstrip", false).put("normalized", false)
                        .put("special", type == CONTROL);
            }
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", preTokenizer(json, gguf.has("tokenizer.ggml.pre") ? gguf.string("tokenizer.ggml.pre") : "gpt2"));
        boolean addBos = Boolean.TRUE.equals(gguf.metadata().get("tokenizer.ggml.add_bos_token"));
        if (addBos) {
            int bos = (int) gguf.integer("tokenizer.ggml.bos_token_id");
            ObjectNode post = root.putObject("post_processor");
            post.put("type", "TemplateProcessing");
            post.putArray("single").addObject().putObject("SpecialToken").put("id", tokens.get(bos)).put("type_id", 0);
            ((ArrayNode) post.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            post.putArray("pair");
            ObjectNode special = post.putObject("special_tokens").putObject(tokens.get(bos));
            special.put("id", tokens.get(bos));
            special.putArray("ids").add(bos);
            special.putArray("tokens").add(tokens.get(bos));
        } else {
            root.putNull("post_processor");
        }
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);
        ObjectNode bpe = root.putObject("model");
        bpe.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix")
                .putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false);
        ObjectNode vocab = bpe.putObject("vocab");
        for (int id = 0; id < tokens.size(); id++) {
            vocab.put(tokens.get(id), id);
        }
        ArrayNode merges = bpe.putArray("merges");
        for (Object merge : gguf.<Object>list("tokenizer.ggml.merges")) {
            merges.add((String) merge);
        }
        return root.toString();
    }

    private static ObjectNode preTokenizer(ObjectMapper json, String pre) {
        ObjectNode byteLevel = json.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        return switch (pre) {
            case "gpt2", "default" -> byteLevel;
            case "smollm" -> {
                ObjectNode sequence = json.createObjectNode().put("type", "Sequence");
                ArrayNode parts = sequence.putArray("pretokenizers");
                parts.addObject().put("type", "Digits").put("individual_digits", true);
                parts.add(byteLevel);
                yield sequence;
            }
            default -> throw new IllegalArgumentException("GGUF pre-tokenizer '" + pre
                    + "' is not supported (gpt2, smollm)");
        };
    }
}
