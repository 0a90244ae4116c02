package dev.engram.cli;

import com.google.protobuf.util.JsonFormat;
import dev.engram.grpc.v1.EditMethod;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.NeighbourPrompt;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** One edit, from a JSON file in the editing/ format or from flags (flags override the file). */
final class EditInput {
    @Option(names = "--edit", description = "a JSON edit request as in editing/*.jsonl ('-' reads standard input)")
    String file;
    @Option(names = "--model", description = "the model to edit (default: the server's default model)")
    String model;
    @Option(names = "--checkpoint", description = "the parent checkpoint (default: the head)")
    String checkpoint;
    @Option(names = "--prompt", description = "the prompt whose next token changes, e.g. 'The capital of France is'")
    String prompt;
    @Option(names = "--subject", description = "with --template: the subject that fills {}")
    String subject;
    @Option(names = "--template", description = "the prompt with {} for the subject, e.g. 'The capital of {} is' "
            + "(lets the gate fill it with other subjects)")
    String template;
    @Option(names = "--target-new", description = "the new answer, with its leading space, e.g. ' Rome'")
    String targetNew;
    @Option(names = "--target-true", description = "default: the model's current top-1")
    String targetTrue;
    @Option(names = "--paraphrase", description = "a paraphrase to verify on (repeatable)")
    List<String> paraphrases;
    @Option(names = "--neighbour", paramLabel = "PROMPT=>EXPECTED", description = "a prompt that must keep its "
            + "answer, e.g. 'The capital of Spain is=> Madrid' (repeatable)")
    List<String> neighbours;
    @Option(names = "--method", description = "subject_neuron, learned, closed_form, rome, memit or alpha_edit "
            + "(default: the server's, subject_neuron where the edit names its subject)")
    String method;

    EditRequest request() throws IOException {
        EditRequest.Builder b = EditRequest.newBuilder();
        if (file != null) {
            String text = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(Path.of(file));
            JsonFormat.parser().merge(text, b);
        }
        if (model != null || checkpoint != null) {
            b.setModel(ClientCommand.model(model != null ? model : b.getModel().getName(),
                    checkpoint != null ? checkpoint : b.getModel().getCheckpoint()));
        }
        if (prompt != null) {
            b.setPrompt(prompt);
        }
        if (subject != null) {
            b.setSubject(subject);
        }
        if (template != null) {
            b.setTemplate(template);
        }
        if (targetNew != null) {
            b.setTargetNew(targetNew);
        }
        if (targetTrue != null) {
            b.setTargetTrue(targetTrue);
        }
        if (paraphrases != null) {
            b.addAllParaphrases(paraphrases);
        }
        if (neighbours != null) {
            for (String n : neighbours) {
                int at = n.indexOf("=>");
                if (at <= 0) {
                    throw new IllegalArgumentException("--neighbour '" + n + "': expected PROMPT=>EXPECTED");
                }
                b.addNeighbours(NeighbourPrompt.newBuilder().setPrompt(n.substring(0, at))
                        .setExpected(n.substring(at + 2)));
            }
        }
        if (method != null) {
            String name = "EDIT_METHOD_" + method.toUpperCase(Locale.ROOT);
            if (EditMethod.getDescriptor().findValueByName(name) == null) {
                throw new IllegalArgumentException("--method '" + method + "': expected one of subject_neuron, "
                        + "learned, closed_form, rome, memit, alpha_edit");
            }
            b.getOptionsBuilder().setMethod(EditMethod.valueOf(name));
        }
        return b.build();
    }
}
