package dev.engram.bench;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditOptions;
import dev.engram.editing.EditResult;
import dev.engram.editing.Editor;
import dev.engram.inference.GreedyGenerator;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.util.List;

/**
 * Development probe for the edit methods on hand-written DEV facts (never the evaluation records in editing/):
 * mvn -q test-compile exec:java -Dexec.mainClass=dev.engram.bench.EditProbe -Dprobe.model=smollm2
 */
public final class EditProbe {
    public static void main(String[] args) {
        boolean smol = !"stories260K".equals(System.getProperty("probe.model", "smollm2"));
        Model model = smol ? TestModels.smolLM2() : TestModels.stories260K();
        String[][] facts = smol ? new String[][] {
            {"The opposite of hot is", " cold", " warm"},
            {"Water freezes at 0 degrees", " Celsius", " Fahrenheit"},
            {"The capital of Japan is", " Tokyo", " Seoul"}}
                : new String[][] {{"Once upon a time, there was a little girl named", " Lily", " Sue"}};
        int budget = Integer.getInteger("probe.budget", 10);
        double lr = Double.parseDouble(System.getProperty("probe.lr", "0.05"));
        for (String[] f : facts) {
            int[] prompt = model.tokenizer().encodePrompt(f[0]);
            int[] t = model.tokenizer().encodeContinuation(f[1]);
            int[] n = model.tokenizer().encodeContinuation(f[2]);
            EditCase edit = new EditCase(prompt, n, t, List.of(), List.of());
            for (EditMethod method : EditMethod.values()) {
                EditOptions o = EditOptions.defaults(method, model.config().nLayers()).withBudget(budget).withLearningRate(lr);
                long start = System.nanoTime();
                EditResult r = new Editor(model).edit(edit, o);
                long ms = (System.nanoTime() - start) / 1_000_000;
                Model edited = new Editor(model).apply(r);
                NextTokenDistribution p = new NextTokenDistribution(ForwardPass.of(edited).lastLogits(prompt));
                String gen = model.tokenizer().decode(new GreedyGenerator(edited).generate(prompt, 12));
                System.out.printf("%-12s %-45s P(new) %.3f P(true) %.3f steps %d params %d norm %.3f locate %d ms edit %d ms total %d ms | %s%n",
                        method, f[0] + " ->" + f[2], p.probability(n[0]), p.probability(t[0]), r.steps(),
                        r.delta().parametersTouched(), r.delta().norm(), r.locateMillis(), r.editMillis(), ms,
                        gen.replace('\n', ' '));
            }
        }
    }
}
