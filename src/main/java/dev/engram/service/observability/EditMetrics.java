package dev.engram.service.observability;

import dev.engram.verification.GateResult;
import dev.engram.verification.NeighbourCheck;
import dev.engram.verification.VerificationReport;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Edit counts and verification figures, per model: {@code engram_edits_total{model, outcome}} with outcome proposed
 * (every verified edit), committed, or refused (one count per refused edit, and one per failed gate under
 * {@code engram_edits_refused_gates_total{model, gate}}); and distributions of what verification measured.
 */
@ApplicationScoped
public class EditMetrics {
    private final MeterRegistry registry;

    public EditMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** An edit was located, made and verified (ProposeEdit, ApplyEdit, or one BatchEdit line). */
    public void verified(String model, VerificationReport report) {
        count(model, "proposed");
        // a check that was not measured records nothing (never a success)
        report.paraphraseSuccess().ifPresent(v -> summary("engram.verification.paraphrase.success", model, v));
        report.neighbourhoodSuccess().ifPresent(v -> summary("engram.verification.neighbourhood.success", model, v));
        report.sameObjectSuccess().ifPresent(v -> summary("engram.verification.same_object.success", model, v));
        report.relationSuccess().ifPresent(v -> summary("engram.verification.relation.success", model, v));
        report.earlierEditRetention().ifPresent(v -> summary("engram.verification.earlier_edits.retention", model, v));
        summary("engram.verification.neighbour.kl.max", model,
                report.neighbours().stream().mapToDouble(NeighbourCheck::kl).max().orElse(0));
        summary("engram.verification.sentinels.flipped", model,
                report.sentinels().stream().filter(s -> !s.kept()).count());
        // the edited model's generation entropy over the parent's: below 1 a drop, above 1 a gain (a relative drop
        // would be negative for a gain, which a distribution summary discards)
        if (report.fluency().parentEntropy() > 0) {
            summary("engram.verification.fluency.ratio", model,
                    report.fluency().editedEntropy() / report.fluency().parentEntropy());
        }
    }

    /** An identical request on the same checkpoint got a proposal verified before, without new work. */
    public void reused(String model) {
        count(model, "reused");
    }

    /** A verified edit was written to the store. */
    public void committed(String model) {
        count(model, "committed");
    }

    /** The gate refused an edit that was to be committed. */
    public void refused(String model, VerificationReport report) {
        count(model, "refused");
        for (GateResult.Gate gate : report.failedGates()) {
            registry.counter("engram.edits.refused.gates", "model", model, "gate", gate.name()).increment();
        }
    }

    private void count(String model, String outcome) {
        registry.counter("engram.edits", "model", model, "outcome", outcome).increment();
    }

    private void summary(String name, String model, double value) {
        DistributionSummary.builder(name).tag("model", model).register(registry).record(value);
    }
}
