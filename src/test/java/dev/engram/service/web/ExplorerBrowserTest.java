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
                "--window-size=1280,1000", "--virtual-time-budget=120000", "--dump-dom", url).redirectError(ProcessBuilder.Redirect.DISCARD)
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
                + "&target=" + q(" Lily") + "&target_new=" + q(" Sue") + "&subject=girl&method=EDIT_METHOD_CLOSED_FORM");
        assertTrue(dom.contains("data-ready=\"true\""), "the page finished its work");
        assertTrue(Pattern.compile("<div id=\"layer-chart\"><svg").matcher(dom).find(), "a layer chart");
        java.util.regex.Matcher width = Pattern.compile("data-chart-width=\"(\\d+)\"").matcher(dom);
        assertTrue(width.find() && Integer.parseInt(width.group(1)) >= 760,
                "the chart at the size it was drawn (760 wide), not shrunk");
        assertTrue(Pattern.compile("<div id=\"head-heatmap\"><svg").matcher(dom).find(), "a head heat map");
        assertTrue(dom.contains("target \" Lily\""), "the target summary");
        String values = dom.substring(dom.indexOf("id=\"value-neurons\""), dom.indexOf("id=\"query-neurons\""));
        assertEquals(10, Pattern.compile("<tr class=\"neuron").matcher(values).results().count(), "top-10 value neurons");
        assertTrue(values.contains("<tr class=\"neuron selected\">"), "the first neuron was clicked");
        String detail = dom.substring(dom.indexOf("id=\"neuron-detail\""));
        assertTrue(Pattern.compile("<h3>L\\d+ FFN \\d+</h3>").matcher(detail).find(), detail);
        assertTrue(Pattern.compile("<ol class=\"projection\">(<li><span class=\"tok\"[^>]*>[^<]*</span></li>){5,}")
                .matcher(detail).find(), "the clicked neuron's projection");
        assertTrue(Pattern.compile("<p[^>]*id=\"verdict\"[^>]*>(PASSED|REFUSED)").matcher(dom).find(),
                "the gate's verdict");
        assertTrue(dom.contains("<td>efficacy</td>") && !dom.contains("GATE_"), "the gates, by their names");
        assertTrue(Pattern.compile("id=\"prompt-tokens\"><span>(<span class=\"tok\" title=\"[^\"]*\">[^<]*</span>){5,}")
                .matcher(dom).find(), "the prompt's tokens, from Tokenize");
        assertTrue(dom.contains("<span class=\"tok\" title=\"&quot; Lily&quot;\">·Lily</span>")
                || dom.contains("title=\"&quot; Sue&quot;\">·Sue</span>"), "a target's leading space shows");
        assertTrue(dom.contains("geometric mean of its tokens"), "P(new) of a multi-token target is explained");
        assertTrue(Pattern.compile("<tbody><tr>(<td>[^<]*</td>){6}|no edits yet").matcher(
                dom.substring(dom.indexOf("id=\"lineage\""))).find(), "the lineage table");
    }

    /**
     * The page commits a passing proposal and rolls it back (the test server needs no token; a token field sends one
     * where it does), and a model switch shows that model's lineage at once: stories260K-web is this test's own.
     */
    @Test
    void thePageCommitsSwitchesModelAndRollsBack() throws Exception {
        String committed = renderedDom(BASE + "/explorer/?model=stories260K-web&prompt="
                + q("Once upon a time, there was a little girl named") + "&target=" + q(" Lily") + "&target_new="
                + q(" Sue") + "&method=EDIT_METHOD_CLOSED_FORM&commit=true");
        assertTrue(committed.contains("data-ready=\"true\""), "the page finished its work");
        java.util.regex.Matcher head = Pattern.compile("id=\"lineage-head\" data-head=\"([0-9a-f]{64})\">"
                + "stories260K-web: the head is ([0-9a-f]{12})<").matcher(committed);
        assertTrue(head.find(), "a new head after Commit: " + section(committed, "lineage-section"));
        assertTrue(committed.contains("committed " + head.group(2)), section(committed, "edit-section"));

        // the default model first, then a switch to stories260K-web: its lineage shows without a refresh
        String switched = renderedDom(BASE + "/explorer/?switch_to=stories260K-web");
        assertTrue(switched.contains("data-head=\"" + head.group(1) + "\">stories260K-web: the head is "),
                section(switched, "lineage-section"));

        // a line break in a token is a visible mark in one chip, not an empty line
        String newline = renderedDom(BASE + "/explorer/?model=stories260K-web&prompt=" + q("Once upon a time.\nThe"));
        assertTrue(newline.contains("title=\"&quot;\\n&quot;\">⏎</span>"), section(newline, "locate-section"));

        String rolledBack = renderedDom(BASE + "/explorer/?model=stories260K-web&rollback=base");
        assertTrue(rolledBack.contains("data-head=\"base\">stories260K-web: the head is the base model (no edit "
                + "applied)"), section(rolledBack, "lineage-section"));
        assertTrue(rolledBack.contains("roll back here"), "the committed checkpoint can be made the head again");
    }

    private static String section(String dom, String id) {
        int at = dom.indexOf("id=\"" + id + "\"");
        return at < 0 ? dom : dom.substring(at, Math.min(dom.length(), at + 3000));
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
