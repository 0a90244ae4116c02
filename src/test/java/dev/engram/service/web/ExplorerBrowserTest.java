package dev.engram.service.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The neuron explorer in a real browser: headless Chromium (Debian's chromium; .ci/run installs it) loads the page
 * from the test server with a prompt, a target and an edit in its address, runs its JavaScript against the JSON
 * gateway, and the rendered DOM must hold the charts, the neurons, the clicked neuron's projection and the gate's
 * verdict. The gateway's own answers to bad calls are checked over plain HTTP.
 */
@QuarkusTest
class ExplorerBrowserTest {
    private static final String BASE = "http://localhost:9081";

    private static String chromium() {
        for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new AssertionError("no Chromium: apt-get install chromium (.ci/run does)");
    }

    private static String renderedDom(String url) throws Exception {
        Process p = new ProcessBuilder(chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                "--virtual-time-budget=120000", "--dump-dom", url).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "chromium did not finish");
        assertEquals(0, p.exitValue());
        return dom;
    }

    private static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Test
    void aPromptRendersChartsNeuronsAProjectionAndAnEditsGateReport() throws Exception {
        String dom = renderedDom(BASE + "/explorer/?prompt=" + q("Once upon a time, there was a little girl named")
                + "&target=" + q(" Lily") + "&target_new=" + q(" Sue") + "&method=EDIT_METHOD_CLOSED_FORM");
        assertTrue(dom.contains("data-ready=\"true\""), "the page finished its work");
        assertTrue(Pattern.compile("<div id=\"layer-chart\"><svg").matcher(dom).find(), "a layer chart");
        assertTrue(Pattern.compile("<div id=\"head-heatmap\"><svg").matcher(dom).find(), "a head heat map");
        assertTrue(dom.contains("target \" Lily\""), "the target summary");
        String values = dom.substring(dom.indexOf("id=\"value-neurons\""), dom.indexOf("id=\"query-neurons\""));
        assertEquals(10, Pattern.compile("<tr class=\"neuron").matcher(values).results().count(), "top-10 value neurons");
        assertTrue(values.contains("<tr class=\"neuron selected\">"), "the first neuron was clicked");
        String detail = dom.substring(dom.indexOf("id=\"neuron-detail\""));
        assertTrue(Pattern.compile("<h3>L\\d+ FFN \\d+</h3>").matcher(detail).find(), detail);
        assertTrue(Pattern.compile("<ol class=\"projection\">(<li><span class=\"tok\">[^<]*</span></li>){5,}")
                .matcher(detail).find(), "the clicked neuron's projection");
        assertTrue(Pattern.compile("<p[^>]*id=\"verdict\"[^>]*>(PASSED|REFUSED)").matcher(dom).find(),
                "the gate's verdict");
        assertTrue(dom.contains("EFFICACY"), "the gates, by name");
        assertTrue(Pattern.compile("<tbody><tr>(<td>[^<]*</td>){6}|no edits yet").matcher(
                dom.substring(dom.indexOf("id=\"lineage\""))).find(), "the lineage table");
    }

    @Test
    void theGatewayAnswersBadCallsWithTheGrpcStatus() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> empty = http.send(post("/api/v1/ModelService/Predict", "{\"prompt\": \"\", \"top_k\": 2}"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, empty.statusCode());
        assertTrue(empty.body().contains("\"INVALID_ARGUMENT\"") && empty.body().contains("prompt: must not be empty"),
                empty.body());
        HttpResponse<String> stream = http.send(post("/api/v1/EditService/BatchEdit", "{}"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, stream.statusCode(), "streaming methods are not on the gateway");
        HttpResponse<String> garbage = http.send(post("/api/v1/ModelService/Predict", "{\"no_such_field\": 1}"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, garbage.statusCode());
        HttpResponse<String> ok = http.send(post("/api/v1/ModelService/Predict",
                "{\"prompt\": \"Once upon a\", \"top_k\": 1}"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode());
        assertTrue(ok.body().contains("\" time\""), ok.body());
    }

    private static HttpRequest post(String path, String json) {
        return HttpRequest.newBuilder(URI.create(BASE + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }
}
