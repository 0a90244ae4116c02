package dev.engram.support;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's nginx (which {@code .ci/run} installs when missing) in the foreground, running the repository's
 * {@code docs/operations/nginx.conf} with its listening port and upstream servers replaced by the test's.
 */
public final class Nginx implements AutoCloseable {
    private static final Path CONFIG = Path.of("docs", "operations", "nginx.conf");
    private final Process process;

    private Nginx(Process process) {
        this.process = process;
    }

    /** Starts nginx on {@code port} in front of the gRPC servers on {@code upstreamPorts} (127.0.0.1). */
    public static Nginx start(int port, List<Integer> upstreamPorts) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("engram-nginx");
        Files.createDirectories(dir.resolve("logs"));
        String config = Files.readString(CONFIG);
        StringBuilder servers = new StringBuilder();
        for (int upstream : upstreamPorts) {
            servers.append("server 127.0.0.1:").append(upstream).append(";\n        ");
        }
        String replaced = config.replaceFirst("server engram-1:9000;\\s*server engram-2:9000;\\s*",
                servers.toString()).replace("listen 9000 http2;", "listen 127.0.0.1:" + port + " http2;");
        if (replaced.contains("engram-1") || !replaced.contains("listen 127.0.0.1:" + port)) {
            throw new IllegalStateException(CONFIG + " no longer has the lines this test replaces");
        }
        Files.writeString(dir.resolve("nginx.conf"), replaced);
        Process p = new ProcessBuilder(binary(), "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(),
                "-g", "daemon off; pid " + dir.resolve("nginx.pid") + "; error_log " + dir.resolve("error.log") + ";")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        Nginx nginx = new Nginx(p);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("nginx exited: " + Files.readString(dir.resolve("stdout.log"))
                        + (Files.exists(dir.resolve("error.log")) ? Files.readString(dir.resolve("error.log")) : ""));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return nginx;
            } catch (IOException notYet) {
                if (System.nanoTime() > until) {
                    nginx.close();
                    throw new IllegalStateException("nginx did not listen on " + port);
                }
                Thread.sleep(100);
            }
        }
    }

    private static String binary() throws IOException {
        for (String candidate : List.of("/usr/sbin/nginx", "/usr/bin/nginx")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new IOException("no nginx binary: install Debian's nginx-light (.ci/run does)");
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
