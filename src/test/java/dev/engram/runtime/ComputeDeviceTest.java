package dev.engram.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** engram.device: parsing, CPU by default, and a clear refusal of a GPU the engine cannot see. */
class ComputeDeviceTest {

    @Test
    void namesParseToDjlDevices() {
        assertEquals(Device.cpu(), ComputeDevice.parse("cpu"));
        assertEquals(Device.cpu(), ComputeDevice.parse(""));
        assertEquals(Device.cpu(), ComputeDevice.parse(" CPU "));
        assertEquals(Device.gpu(0), ComputeDevice.parse("gpu"));
        assertEquals(Device.gpu(0), ComputeDevice.parse("cuda"));
        assertEquals(Device.gpu(3), ComputeDevice.parse("gpu:3"));
        for (String bad : new String[] {"tpu", "gpu:", "gpu:-1", "gpu:x", "gpu:1:2", "cpu:0"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ComputeDevice.parse(bad));
            assertTrue(e.getMessage().contains("engram.device"), e.getMessage());
        }
    }

    @Test
    void theCpuBuildRefusesAGpuWithAMessageThatSaysHowToGetOne() {
        Assumptions.assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0, "a GPU is visible here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ComputeDevice.select("gpu"));
        assertTrue(e.getMessage().contains("-Pcuda"), e.getMessage());
        assertEquals(Device.cpu(), ComputeDevice.selected(), "a refused choice leaves the device as it was");
        assertEquals(Device.cpu(), ComputeDevice.select("cpu"));
    }
}
