package dev.engram.runtime;

/** The weight matrices of a block that a sparse edit can touch. */
public enum Param {
    ATTN_Q, ATTN_K, ATTN_V, ATTN_O, FFN_GATE, FFN_UP, FFN_DOWN
}
