package dev.engram.runtime;

/** Which pairs of head dimensions a rotary embedding rotates together. */
public enum RopeLayout {
    /** (x[2i], x[2i+1]): Meta's original layout, llama2.c and GGUF files. */
    ADJACENT,
    /** (x[i], x[i + d_head/2]): Hugging Face Llama checkpoints ("rotate_half"). */
    HALF
}
