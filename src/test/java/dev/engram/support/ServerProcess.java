package dev.engram.support;

import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The packaged server ({@code target/quarkus-app}, built by {@code mvn package}) as a separate process on stories260K,
 * for the *IT tests: started with a store directory and extra system properties, ready once its health check says
 * SERVING; its output goes to {@code <store>.log}, its exports and backups beside the store ({@code <store>-exports},
 * {@code <store>-backups}).
 */
public final class ServerProcess implements AutoCloseable {
    private static final String RUNNER = "target/quarkus-app/quarkus-run.jar";
    private final Process process;
    private final int port;

    private ServerProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    public static ServerProcess start(Path store, int port, List<String> systemProperties)
            throws IOException, InterruptedException {
        return start(store, port, systemProperties, null);
    }

    /**
     * {@link #start(Path, int, List)} with {@code extraClassPath} (a directory of classes, or null) on the server's
     * system class path, where the server looks up observers such as the crash test's commit observer. The packaged
     * application runs as with {@code java -jar}: its runner jar, its main class and the module opening its manifest
     * asks for.
     */
    public static ServerProcess start(Path store, int port, List<String> systemProperties, Path extraClassPath)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Dai.djl.offline=true"));
        systemProperties.forEach(p -> command.add(p.startsWith("-") ? p : "-D" + p)); // "-X…": a JVM option
        if (extraClassPath == null) {
            command.addAll(List.of("-jar", RUNNER));
        } else {
            command.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "-cp",
                    RUNNER + File.pathSeparator + extraClassPath, "io.quarkus.bootstrap.runner.QuarkusEntryPoint"));
        }
        Path log = store.resolveSibling(store.getFileName() + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("ENGRAM_STORE_DIR", store.toString());
        pb.environment().put("ENGRAM_EXPORT_DIR", store.resolveSibling(store.getFileName() + "-exports").toString());
        pb.environment().put("ENGRAM_BACKUP_DIR", store.resolveSibling(store.getFileName() + "-backups").toString());
        pb.environment().put("ENGRAM_DEFAULT_MODEL", "stories260K");
        pb.environment().put("ENGRAM_STORIES260K_PATH", new File(System.getProperty("shared.models.dir",
                "../shared/models"), "stories260K").getAbsolutePath());
        pb.environment().put("ENGRAM_PORT", String.valueOf(port));
        pb.environment().put("ENGRAM_HTTP_PORT", String.valueOf(port + 100));
        ServerProcess server = new ServerProcess(pb.start(), port);
        server.awaitServing(log);
        return server;
    }

    private void awaitServing(Path log) throws InterruptedException {
        ManagedChannel probe = channel();
        try {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the server exited at start (see " + log + ")");
                }
                try {
                    if (HealthGrpc.newBlockingStub(probe).withDeadlineAfter(2, TimeUnit.SECONDS)
                            .check(HealthOuterClass.HealthCheckRequest.getDefaultInstance()).getStatus()
                            == HealthOuterClass.HealthCheckResponse.ServingStatus.SERVING) {
                        return;
                    }
                } catch (io.grpc.StatusRuntimeException notYet) {
                    if (System.nanoTime() > until) {
                        throw new IllegalStateException("the server did not start (see " + log + ")");
                    }
                    Thread.sleep(200);
                }
            }
        } finally {
            probe.shutdownNow();
        }
    }

    /** A new plaintext channel to the server; the caller shuts it down. */
    public ManagedChannel channel() {
        return ManagedChannelBuilder.forAddress("localhost", port).usePlaintext().build();
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, and wait for the process to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(60, TimeUnit.SECONDS);
    }

    /** SIGTERM (a graceful stop), and wait. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
