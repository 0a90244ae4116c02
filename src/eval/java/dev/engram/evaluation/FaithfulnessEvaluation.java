package dev.engram.evaluation;

import dev.engram.runtime.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The faithfulness evaluation as one command:
 * {@code FaithfulnessEvaluation <model[=path]> [--types paper|stories|t1,t2] [--per-type N] [--out dir] [--seed S]}.
 * Filters the knowledge probes for the model, runs {@link FaithfulnessRun} and writes {@link FaithfulnessReport}.
 */
public final class FaithfulnessEvaluation {
    private FaithfulnessEvaluation() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> flags = flags(args);
        Model model = EvaluationModels.load(args[0]);
        String types = flags.getOrDefault("types", model.name().startsWith("stories") ? "stories" : "paper");
        List<KnowledgeItem> items = KnowledgeSets.load(switch (types) {
            case "paper" -> KnowledgeSets.PAPER_TYPES;
            case "stories" -> KnowledgeSets.STORY_TYPES;
            default -> Arrays.asList(types.split(","));
        });
        ProbeFilter.Filtered filtered = ProbeFilter.apply(model, items);
        List<ProbeFilter.Probe> probes = limitPerType(filtered.probes(),
                Integer.parseInt(flags.getOrDefault("per-type", "1000000")));
        FaithfulnessRun.Result result = FaithfulnessRun.run(model, probes, filtered.keptOfTotal(),
                FaithfulnessRun.Sizes.paper(), Long.parseLong(flags.getOrDefault("seed", "1")));
        FaithfulnessReport report = new FaithfulnessReport(result);
        report.write(Path.of(flags.getOrDefault("out", "docs/evaluation")));
        System.out.println(report.markdown());
    }

    /** The first {@code n} kept probes of each type, in file order. */
    static List<ProbeFilter.Probe> limitPerType(List<ProbeFilter.Probe> probes, int n) {
        Map<String, Integer> taken = new LinkedHashMap<>();
        List<ProbeFilter.Probe> out = new ArrayList<>();
        for (ProbeFilter.Probe p : probes) {
            if (taken.merge(p.item().type(), 1, Integer::sum) <= n) {
                out.add(p);
            }
        }
        return out;
    }

    static Map<String, String> flags(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --flag value, got " + args[i]);
            }
            out.put(args[i].substring(2), args[i + 1]);
        }
        return out;
    }
}
