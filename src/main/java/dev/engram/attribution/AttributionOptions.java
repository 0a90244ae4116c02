package dev.engram.attribution;

/**
 * @param topValueNeurons  how many value neurons to return
 * @param topQueryNeurons  how many query neurons to return (0: skip query neurons)
 * @param mode             FROZEN (default; the reference code) or EXACT
 * @param queryFfnValues   the top FFN value neurons whose query neurons are summed (the reference: 100)
 * @param queryAttnValues  the top attention value neurons whose query neurons are summed (the reference: 30)
 * @param queryKey         the Llama subkey that defines FFN query neurons
 * @param exhaustive       score every neuron by brute force instead of the bounded top-k (the reference; for checking and benchmarks)
 * @param headScores       also score every head (L·H readouts through W_U: about as costly as the value neurons)
 */
public record AttributionOptions(int topValueNeurons, int topQueryNeurons, NormMode mode, int queryFfnValues,
        int queryAttnValues, QueryKey queryKey, boolean exhaustive, boolean headScores) {

    public static final int MAX_TOP = 10_000;

    public AttributionOptions {
        if (topValueNeurons < 1 || topValueNeurons > MAX_TOP) {
            throw new IllegalArgumentException("top_k must be between 1 and " + MAX_TOP + ", got " + topValueNeurons);
        }
        if (topQueryNeurons < 0 || topQueryNeurons > MAX_TOP || queryFfnValues < 0 || queryAttnValues < 0
                || queryFfnValues > MAX_TOP || queryAttnValues > MAX_TOP) {
            throw new IllegalArgumentException("query neuron counts must be between 0 and " + MAX_TOP);
        }
    }

    public static AttributionOptions defaults(int topK) {
        return new AttributionOptions(topK, topK, NormMode.FROZEN, 100, 30, QueryKey.GATE, false, true);
    }

    public AttributionOptions withMode(NormMode m) {
        return new AttributionOptions(topValueNeurons, topQueryNeurons, m, queryFfnValues, queryAttnValues, queryKey,
                exhaustive, headScores);
    }

    public AttributionOptions withExhaustive(boolean e) {
        return new AttributionOptions(topValueNeurons, topQueryNeurons, mode, queryFfnValues, queryAttnValues,
                queryKey, e, headScores);
    }

    /** Only the value neurons (and layer scores): no query neurons, no head scores. */
    public static AttributionOptions valueNeuronsOnly(int topK, NormMode mode) {
        return new AttributionOptions(topK, 0, mode, 0, 0, QueryKey.GATE, false, false);
    }
}
