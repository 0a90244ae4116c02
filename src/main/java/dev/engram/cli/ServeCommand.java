package dev.engram.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts the server (the packaged Quarkus application next to this jar) in the foreground, with its configuration
 * from the environment and application.properties, as the README's first command does.
 */
@Command(name = "serve", description = "Start the gRPC server on the default model (foreground).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--port", description = "gRPC port (default 9000, env ENGRAM_PORT)")
    Integer port;

    @Override
    public Integer call() throws Exception {
        Path app = Path.of(ServeCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path runner = app.getParent().getParent().resolve("quarkus-run.jar");
        if (!Files.isRegularFile(runner)) {
            throw new IllegalArgumentException("no packaged server next to the CLI (run: mvn -B package -DskipTests)");
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        if (port != null) {
            command.add("-Dquarkus.grpc.server.port=" + port);
        }
        command.addAll(List.of("-jar", runner.toString()));
        return new ProcessBuilder(command).inheritIO().start().waitFor();
    }
}
