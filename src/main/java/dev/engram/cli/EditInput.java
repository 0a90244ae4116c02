package dev.engram.cli;

import com.google.protobuf.util.JsonFormat;
import dev.engram.grpc.v1.EditMethod;
import dev.engram.grpc.v1.EditRequest;
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
    @Option(names = "--model")
    String model;
    @Option(names = "--checkpoint", description = "the parent checkpoint (default: the head)")
    String checkpoint;
    @Option(names = "--prompt")
    String prompt;
    @Option(names = "--subject", description = "with --template: the subject that fills {}")
    String subject;
    @Option(names = "--template")
    String template;
    @Option(names = "--target-new")
    String targetNew;
    @Option(names = "--target-true", description = "default: the model's current top-1")
    String targetTrue;
    @Option(names = "--paraphrase", description = "a paraphrase to verify on (repeatable)")
    List<String> paraphrases;
    @Option(names = "--method", description = "learned or closed_form")
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
        if (method != null) {
            b.getOptionsBuilder().setMethod(EditMethod.valueOf("EDIT_METHOD_" + method.toUpperCase(Locale.ROOT)));
        }
        return b.build();
    }
}
