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
        return String.format(Locale.ROOT, "%s: %s -> %s (was %s)  P(new) %.3f P(true) %.3f  PS %.2f NS %.2f  "
                + "params %d  %d ms", verdict, LocateCommand.quoted(p.getPrompt()), LocateCommand.quoted(p.getTargetNew()),
                LocateCommand.quoted(p.getTargetTrue()), e.getNewProbability(), e.getTrueProbability(),
                r.getParaphraseScore(), r.getNeighbourhoodScore(), p.getDelta().getParametersTouched(),
                p.getTimings().getTotalMs());
    }
}
