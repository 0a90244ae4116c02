package dev.engram.bench;

import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.attribution.ScoredNeuron;
import dev.engram.attribution.StepAttribution;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;

/**
 * Prints the top-10 value and query neurons of one stories260K prompt (-Dprobe.prompt).
 * mvn -q test-compile exec:java -Dexec.mainClass=dev.engram.bench.LocateProbe
 */
public final class LocateProbe {
    public static void main(String[] args) {
        String prompt = System.getProperty("probe.prompt", "Once upon a time, there was a little girl named");
        try (Model model = TestModels.stories260K()) {
            StepAttribution s = new Attributor(model)
                    .attribute(model.tokenizer().encodePrompt(prompt), null, AttributionOptions.defaults(10))
                    .steps().get(0);
            System.out.printf("\"%s\" -> '%s': log p %.4f, log p(h^0) %.4f, gain %.4f; %d of %d neurons scored exactly%n",
                    prompt, s.targetText(), s.finalLogProb(), s.embeddingLogProb(), s.gain(), s.evaluated(), s.neurons());
            System.out.println("value neurons:");
            s.valueNeurons().forEach(LocateProbe::print);
            System.out.println("query neurons:");
            s.query().top().forEach(LocateProbe::print);
        }
    }

    private static void print(ScoredNeuron n) {
        System.out.printf("  %-34s score %+.4f  coef %+.4f  %s%s%n", n.id(), n.score(), n.coefficient(),
                n.sourceToken() == null ? "" : "src '" + n.sourceToken() + "'  ", n.topTokens());
    }
}
