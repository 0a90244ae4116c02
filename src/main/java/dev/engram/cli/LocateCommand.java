package dev.engram.cli;

import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.LocateFactResponse;
import dev.engram.grpc.v1.Neuron;
import dev.engram.grpc.v1.TargetAttribution;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** LocateFact: which value and query neurons make the model say the target after the prompt. */
@Command(name = "locate", description = "Which neurons make the model say TARGET after PROMPT (LocateFact).")
final class LocateCommand extends ClientCommand {
    @Option(names = "--model", description = "model name (default: the server's default)")
    String model;
    @Option(names = "--checkpoint", description = "checkpoint id, 'base', or empty for the head")
    String checkpoint;
    @Option(names = "--prompt", required = true, description = "the prompt whose next token is explained")
    String prompt;
    @Option(names = "--target", description = "the continuation to explain (default: the model's top-1)")
    String target;
    @Option(names = "--top-k", defaultValue = "10", description = "neurons listed per kind (default ${DEFAULT-VALUE})")
    int topK;

    @Override
    int run(ManagedChannel channel, PrintWriter out) {
        LocateFactResponse r = server.prepare(AttributionServiceGrpc.newBlockingStub(channel)).locateFact(
                LocateFactRequest.newBuilder().setModel(model(model, checkpoint)).setPrompt(prompt)
                        .setTarget(target == null ? "" : target).setTopK(topK).build());
        if (server.json) {
            ServerOptions.printJson(out, r, false);
            return EngramCli.OK;
        }
        out.printf("%s @ %s%n", r.getModel().getName(), r.getModel().getCheckpoint());
        for (TargetAttribution t : r.getTargetsList()) {
            out.printf(Locale.ROOT, "target %s  log p = %.3f  (gain over the embedding %.3f)%n", quoted(t.getToken()),
                    t.getLogProb(), t.getLogProbGain());
            out.println("  value neurons            score   top tokens");
            for (Neuron n : t.getValueNeuronsList()) {
                out.printf(Locale.ROOT, "  %-22s %7.3f   %s%n", name(n), n.getScore(),
                        String.join(" ", n.getTopTokensList().stream().map(LocateCommand::quoted).toList()));
            }
            if (t.getQueryNeuronsCount() > 0) {
                out.println("  query neurons            score");
                for (Neuron n : t.getQueryNeuronsList()) {
                    out.printf(Locale.ROOT, "  %-22s %7.3f%n", name(n), n.getScore());
                }
            }
        }
        return EngramCli.OK;
    }

    static String name(Neuron n) {
        return n.hasFfn() ? "L" + n.getFfn().getLayer() + " FFN " + n.getFfn().getIndex()
                : "L" + n.getAttention().getLayer() + " H" + n.getAttention().getHead() + " d" + n.getAttention().getDim()
                        + " @" + n.getPosition();
    }

    static String quoted(String token) {
        return "'" + token.replace("\n", "\\n") + "'";
    }
}
