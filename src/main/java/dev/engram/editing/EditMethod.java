package dev.engram.editing;

/** How the located subvalues are changed. */
public enum EditMethod {
    /** Deltas trained with autograd and Adam: target NLL + KL to the parent + L2 (FiNE's recipe, ROME's prefixes). */
    LEARNED,
    /** The minimum-norm change that moves the frozen-norm readout by a log-odds margin: one small solve, no gradients. */
    CLOSED_FORM
}
