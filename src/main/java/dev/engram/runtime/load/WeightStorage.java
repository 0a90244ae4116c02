package dev.engram.runtime.load;

/**
 * How a loaded model holds the matrices of a half-precision checkpoint (embeddings, unembedding and block matrices;
 * norms and biases are always F32). F32, dequantised (GGUF) and llama2.c weights are F32 whatever this says.
 */
public enum WeightStorage {
    /** F16 matrices stay F16, and BF16 matrices become F16 ({@link Dtype#bf16AsF16}: exact
     * in F16's normal range) unless a value lies beyond F16's range, when they are widened. */
    STORED,
    /** Every matrix widened to F32 at load: twice the memory, F32 products throughout. */
    F32
}
