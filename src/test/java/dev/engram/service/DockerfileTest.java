package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile (no Docker engine on these machines; .ci/run lints it with hadolint) kept in step with the server and
 * the README: two stages, a numeric non-root user, the ports the README publishes, and a health check whose URL the
 * server really answers (asked here on the test HTTP port).
 */
@QuarkusTest
class DockerfileTest {
    private static final String DOCKERFILE = read("Dockerfile");

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void multiStageNonRootAndThePortsTheReadmePublishes() {
        assertEquals(2, Pattern.compile("^FROM ", Pattern.MULTILINE).matcher(DOCKERFILE).results().count());
        Matcher user = Pattern.compile("^USER (\\d+)$", Pattern.MULTILINE).matcher(DOCKERFILE);
        assertTrue(user.find() && Integer.parseInt(user.group(1)) != 0, "a numeric user that is not root");
        Matcher expose = Pattern.compile("^EXPOSE (.+)$", Pattern.MULTILINE).matcher(DOCKERFILE);
        assertTrue(expose.find());
        String readme = read("README.md");
        for (String port : expose.group(1).trim().split("\\s+")) {
            assertTrue(readme.contains("-p " + port + ":" + port), "the README's docker run publishes " + port);
        }
        assertTrue(readme.contains("docker build -t engram ."), "the README builds the image as the Dockerfile says");
    }

    @Test
    void theHealthCheckAsksAUrlTheServerAnswers() throws Exception {
        Matcher check = Pattern.compile("HEALTHCHECK[^\\n]*\\\\\\n\\s*CMD \\[.*\"(http://127\\.0\\.0\\.1:9080(/[^\"]*))\"\\]")
                .matcher(DOCKERFILE);
        assertTrue(check.find(), "a HEALTHCHECK with a URL on port 9080");
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://localhost:9081" + check.group(2))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"status\": \"UP\""), response.body());
    }
}
