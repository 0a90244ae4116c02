package dev.engram.runtime.load;

/**
 * Where a Llama-family checkpoint keeps each tensor; per-layer names hold {@code %d} for the layer index. Matrices
 * are stored [out, in] in both the HF and the GGUF naming.
 */
public record LlamaTensorNames(
        String embedding, String finalNorm, String output,
        String attnNorm, String q, String k, String v, String o,
        String qBias, String kBias, String vBias, String oBias,
        String ffnNorm, String gate, String up, String down) {

    public static final LlamaTensorNames HF = new LlamaTensorNames(
            "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
            "model.layers.%d.input_layernorm.weight",
            "model.layers.%d.self_attn.q_proj.weight", "model.layers.%d.self_attn.k_proj.weight",
            "model.layers.%d.self_attn.v_proj.weight", "model.layers.%d.self_attn.o_proj.weight",
            "model.layers.%d.self_attn.q_proj.bias", "model.layers.%d.self_attn.k_proj.bias",
            "model.layers.%d.self_attn.v_proj.bias", "model.layers.%d.self_attn.o_proj.bias",
            "model.layers.%d.post_attention_layernorm.weight",
            "model.layers.%d.mlp.gate_proj.weight", "model.layers.%d.mlp.up_proj.weight",
            "model.layers.%d.mlp.down_proj.weight");

    /** llama.cpp's names (its q/k rows use adjacent rotary pairs). */
    public static final LlamaTensorNames GGUF = new LlamaTensorNames(
            "token_embd.weight", "output_norm.weight", "output.weight",
            "blk.%d.attn_norm.weight",
            "blk.%d.attn_q.weight", "blk.%d.attn_k.weight", "blk.%d.attn_v.weight", "blk.%d.attn_output.weight",
            "blk.%d.attn_q.bias", "blk.%d.attn_k.bias", "blk.%d.attn_v.bias", "blk.%d.attn_output.bias",
            "blk.%d.ffn_norm.weight",
            "blk.%d.ffn_gate.weight", "blk.%d.ffn_up.weight", "blk.%d.ffn_down.weight");

    public static String at(String pattern, int layer) {
        return String.format(pattern, layer);
    }
}
