package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Python client's own tests (clients/python/tests, pytest), run during {@code mvn verify} once the server is
 * packaged: clients/python/run-tests.sh installs the package into a fresh virtual environment (its gRPC stubs
 * generated from proto/ as it builds) and the tests start the packaged server on stories260K.
 */
class PythonClientIT {
    @Test
    void thePythonClientsTestsPassAgainstARealServer() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "clients/python/run-tests.sh").redirectErrorStream(true);
        pb.environment().put("SHARED_MODELS_DIR", new File(System.getProperty("shared.models.dir",
                "../shared/models")).getAbsolutePath());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), "pytest did not finish");
        System.out.println(output);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.matches("(?s).*\\b\\d+ passed\\b.*") && !output.contains("failed"), output);
    }
}
