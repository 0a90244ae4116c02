package dev.engram.cli;

import dev.engram.grpc.v1.PromptReport;
import dev.engram.grpc.v1.ProposeEditResponse;
import dev.engram.grpc.v1.VerificationReport;
import java.util.Locale;

/** A proposal in one line: the edit, the gate's verdict and the figures behind it. */
final class ProposalText {
    private ProposalText() {
    }

    static String of(ProposeEditResponse p) {
        VerificationReport r = p.getReport();
        PromptReport e = r.getEfficacy();
        String verdict = r.getPassed() ? "PASSED" : "REFUSED " + r.getFailedGatesList().stream()
                .map(g -> g.name().replace("GATE_", "")).toList();
        return String.format(Locale.ROOT, "%s: %s -> %s (was %s)  P(new) %.3f P(true) %.3f  PS %s NB %s SO %s RS %s  "
                + "params %d  %d ms", verdict, LocateCommand.quoted(p.getPrompt()), LocateCommand.quoted(p.getTargetNew()),
                LocateCommand.quoted(p.getTargetTrue()), e.getNewProbability(), e.getTrueProbability(),
                scores(r)[0], scores(r)[1], scores(r)[2], scores(r)[3], p.getDelta().getParametersTouched(),
                p.getTimings().getTotalMs());
    }

    /**
     * PS, NB (the neighbours the caller gave; not CounterFact's NS), SO (same-object neighbours the gate found:
     * CounterFact's NS) and RS (relation
     * neighbours the gate found), each "n/a" when it was not measured.
     */
    static String[] scores(VerificationReport r) {
        return new String[] {score(r.hasParaphraseScore(), r.getParaphraseScore()),
                score(r.hasNeighbourhoodScore(), r.getNeighbourhoodScore()),
                score(r.hasSameObjectScore(), r.getSameObjectScore()),
                score(r.hasRelationScore(), r.getRelationScore())};
    }

    private static String score(boolean measured, double value) {
        return measured ? String.format(Locale.ROOT, "%.2f", value) : "n/a";
    }
}
