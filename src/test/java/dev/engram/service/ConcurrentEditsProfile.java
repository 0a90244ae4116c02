package dev.engram.service;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** A model of its own for the race, and a heavy queue deep enough that no call of it is refused for load. */
public class ConcurrentEditsProfile implements QuarkusTestProfile {
    static final String MODEL = "stories260K-race";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "engram.models." + MODEL + ".path", System.getProperty("shared.models.dir", "../shared/models")
                        + "/stories260K",
                "engram.models." + MODEL + ".sentinels", "stories260K",
                "engram.admission.heavy-in-flight", "2",
                "engram.admission.heavy-queue", "64");
    }
}
