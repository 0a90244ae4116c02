package dev.engram.service;

import dev.engram.service.security.AccessTokens;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The server as a platform team runs it: TLS only (on the test port), with a self-signed certificate made here by the JDK's keytool,
 * three bearer tokens (read; edit; admin + read + edit) configured inline by their SHA-256 hashes, and a tokens file
 * (re-read every 200 ms) that the rotation test rewrites; one heavy call per token holder at a time; a model of its own
 * to commit on.
 */
public class SecuredServerProfile implements QuarkusTestProfile {
    static final String READ_TOKEN = "read-" + UUID.randomUUID();
    static final String EDIT_TOKEN = "edit-" + UUID.randomUUID();
    static final String ADMIN_TOKEN = "admin-" + UUID.randomUUID();
    static final Path DIR = Path.of("target", "tls-" + ProcessHandle.current().pid());
    static final Path KEY_STORE = DIR.resolve("server.p12");
    static final Path CERTIFICATE = DIR.resolve("server.pem");
    static final Path TOKENS_FILE = DIR.resolve("tokens");
    /** A read token in the tokens file as the server starts. */
    static final String FILED_TOKEN = "filed-" + UUID.randomUUID();
    static final String MODEL = "stories260K-secured";
    private static final String PASSWORD = "engram-test";

    @Override
    public Map<String, String> getConfigOverrides() {
        makeCertificate();
        String tokens = String.join(";",
                AccessTokens.sha256Hex(READ_TOKEN) + " read reader",
                AccessTokens.sha256Hex(EDIT_TOKEN) + " edit editor",
                AccessTokens.sha256Hex(ADMIN_TOKEN) + " admin,read,edit operator");
        writeTokensFile(AccessTokens.sha256Hex(FILED_TOKEN) + " read filed");
        return Map.of(
                "engram.auth.tokens", tokens,
                "engram.auth.tokens-file", TOKENS_FILE.toAbsolutePath().toString(),
                "engram.auth.tokens-recheck", "200ms",
                "engram.admission.heavy-per-caller", "1",
                "engram.models." + MODEL + ".path", System.getProperty("shared.models.dir", "../shared/models")
                        + "/stories260K",
                "engram.models." + MODEL + ".sentinels", "stories260K",
                "quarkus.grpc.server.ssl.key-store", KEY_STORE.toAbsolutePath().toString(),
                "quarkus.grpc.server.ssl.key-store-password", PASSWORD,
                "quarkus.grpc.server.plain-text", "false");
    }

    /** Replaces the tokens file as an operator would: written beside it, then renamed over it. */
    static void writeTokensFile(String... lines) {
        try {
            Files.createDirectories(DIR);
            Path next = DIR.resolve("tokens.next");
            Files.write(next, List.of(lines));
            Files.move(next, TOKENS_FILE, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A fresh RSA key and self-signed certificate for localhost / 127.0.0.1, and the certificate in PEM. */
    static synchronized void makeCertificate() {
        if (Files.exists(CERTIFICATE)) {
            return;
        }
        try {
            Files.createDirectories(DIR);
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            run(List.of(keytool, "-genkeypair", "-alias", "engram", "-keyalg", "RSA", "-keysize", "2048",
                    "-validity", "2", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                    "-storetype", "PKCS12", "-keystore", KEY_STORE.toString(), "-storepass", PASSWORD));
            run(List.of(keytool, "-exportcert", "-rfc", "-alias", "engram", "-keystore", KEY_STORE.toString(),
                    "-storepass", PASSWORD, "-file", CERTIFICATE.toString()));
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("cannot make the test certificate", e);
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }
}
