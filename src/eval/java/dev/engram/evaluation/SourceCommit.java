package dev.engram.evaluation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The git commit the working tree's code is, for runs whose results must name the code that measured them. */
final class SourceCommit {
    private SourceCommit() {
    }

    /**
     * HEAD's id when the code (src/, pom.xml) has no uncommitted change.
     *
     * @throws IllegalStateException when it has one, or when there is no git repository here
     */
    static String clean() {
        String dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "pom.xml");
        if (!dirty.isBlank()) {
            throw new IllegalStateException("the code has uncommitted changes, so no commit names it:\n" + dirty);
        }
        return git("rev-parse", "HEAD").strip();
    }

    private static String git(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
