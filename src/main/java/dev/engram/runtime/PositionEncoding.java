package dev.engram.runtime;

import ai.djl.ndarray.NDArray;

/** How a family tells positions apart. */
public enum PositionEncoding {
    /** A learned W_pos[t] added to h^0 (GPT-2); queries and keys are not rotated. */
    LEARNED {
        @Override
        public NDArray rotate(NDArray x, ModelConfig config, int[] positions) {
            return x;
        }
    },
    /** Rotary embeddings of queries and keys ({@link Rope}); h^0 carries no position. */
    ROTARY {
        @Override
        public NDArray rotate(NDArray x, ModelConfig config, int[] positions) {
            return Rope.apply(x, config, positions);
        }
    };

    /** Queries or keys [T, heads, d_head] at {@code positions}, rotated where the family rotates them. */
    public abstract NDArray rotate(NDArray x, ModelConfig config, int[] positions);
}
