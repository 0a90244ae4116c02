package dev.engram.cli;

import dev.engram.grpc.v1.CompareRequest;
import dev.engram.grpc.v1.CompareResponse;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.PromptComparison;
import dev.engram.grpc.v1.TokenCandidate;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Compare: two checkpoints of a model side by side on prompts (top-k of each, KL, same top-1). */
@Command(name = "compare", description = "Two checkpoints side by side on prompts (default: base against the head).")
final class CompareCommand extends ClientCommand {
    @Option(names = "--model", defaultValue = "", description = "default: the server's default model")
    String model;
    @Option(names = "--a", defaultValue = "base", description = "checkpoint A (default ${DEFAULT-VALUE})")
    String a;
    @Option(names = "--b", defaultValue = "", description = "checkpoint B (default: the head)")
    String b;
    @Option(names = "--prompt", required = true, description = "a prompt (repeatable)")
    List<String> prompts;
    @Option(names = "--top-k", defaultValue = "3", description = "next tokens listed per side (default ${DEFAULT-VALUE})")
    int topK;

    @Override
    int run(ManagedChannel channel, PrintWriter out) {
        CompareResponse r = server.prepare(EditServiceGrpc.newBlockingStub(channel)).compare(CompareRequest
                .newBuilder().setModel(model).setCheckpointA(a).setCheckpointB(b).addAllPrompts(prompts)
                .setTopK(topK).build());
        if (server.json) {
            ServerOptions.printJson(out, r, false);
            return EngramCli.OK;
        }
        out.printf("%s: A = %s, B = %s%n", r.getModel(), r.getCheckpointA(), r.getCheckpointB());
        for (PromptComparison p : r.getPromptsList()) {
            out.printf(Locale.ROOT, "%s  KL %.4f%s%n  A: %s%n  B: %s%n", LocateCommand.quoted(p.getPrompt()), p.getKl(),
                    p.getSameTop1() ? "" : "  (top-1 changed)", tops(p.getTopAList()), tops(p.getTopBList()));
        }
        return EngramCli.OK;
    }

    private static String tops(List<TokenCandidate> tops) {
        return String.join("  ", tops.stream().map(t -> String.format(Locale.ROOT, "%s %.3f",
                LocateCommand.quoted(t.getText()), t.getProbability())).toList());
    }
}
