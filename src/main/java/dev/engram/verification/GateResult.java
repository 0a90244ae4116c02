package dev.engram.verification;

/** One gate's verdict and the numbers behind it. */
public record GateResult(Gate gate, boolean passed, String detail) {

    public enum Gate { EFFICACY, GENERALISATION, SPECIFICITY, FLUENCY, RETENTION }
}
