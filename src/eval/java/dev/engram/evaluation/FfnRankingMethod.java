package dev.engram.evaluation;

/**
 * The ways the paper ranks FFN value neurons v_k = m_k · u_k for a gold token w (method.md, "Baselines"). All readouts
 * use the FROZEN final norm of the attribution method, so the methods differ only in what they score.
 */
public enum FfnRankingMethod {
    /** (a) Imp(v) = log p(w | base + v) − log p(w | base): the paper's method. */
    LOG_PROB_INCREASE("log-prob increase (this method)"),
    /** (b) log p(w | v): the vector alone through N_f and W_U. */
    LOG_PROB("log prob (b)"),
    /** (c) p(w | base + v) − p(w | base). */
    PROB_INCREASE("prob increase (c)"),
    /** (d) ‖v‖ = |m_k| · ‖u_k‖. */
    NORM("norm (d)"),
    /** (e) m_k. */
    COEFFICIENT("coefficient (e)"),
    /** (f) the rank of w in the projection of v (sign(m_k) · u_k); lower is more important. */
    RANK("rank (f)"),
    /** (g) m_k · ‖u_k‖. */
    COEFFICIENT_TIMES_NORM("m × norm (g)"),
    /** (h) m_k / rank of w in the projection of u_k. */
    COEFFICIENT_OVER_RANK("m / rank (h)"),
    /** A control: k FFN neurons drawn at random. */
    RANDOM("random");

    private final String label;

    FfnRankingMethod(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
