package dev.engram.runtime;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/**
 * Where every tensor of the process lives: {@code engram.device} = {@code cpu} (the default, and what CI tests),
 * {@code gpu} or {@code gpu:N} (DJL's PyTorch CUDA engine, whose native library comes from Maven Central with the
 * {@code cuda} build profile; nothing is downloaded at run time). Chosen once, before the first model loads; every
 * manager a model or request makes descends from the model's, so one choice moves all the work.
 */
public final class ComputeDevice {
    private static volatile Device selected = Device.cpu();

    private ComputeDevice() {
    }

    /** The device that {@code spec} names: {@code cpu}, {@code gpu} (device 0) or {@code gpu:N}; {@code cuda} = gpu. */
    public static Device parse(String spec) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.isEmpty() || s.equals("cpu")) {
            return Device.cpu();
        }
        String[] parts = s.split(":", -1);
        if ((parts[0].equals("gpu") || parts[0].equals("cuda")) && parts.length <= 2) {
            if (parts.length == 1) {
                return Device.gpu(0);
            }
            try {
                int id = Integer.parseInt(parts[1]);
                if (id >= 0) {
                    return Device.gpu(id);
                }
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
        }
        throw new IllegalArgumentException("engram.device: '" + spec + "' is not cpu, gpu or gpu:N");
    }

    /**
     * Selects the device {@code spec} names for every model loaded from now on. A GPU must be visible to the engine:
     * with the default CPU build (pytorch-native-cpu) none ever is, and the message says how to build for CUDA.
     */
    public static Device select(String spec) {
        Device device = parse(spec);
        if (device.isGpu()) {
            int visible = Engine.getEngine("PyTorch").getGpuCount();
            if (device.getDeviceId() >= visible) {
                throw new IllegalStateException("engram.device=" + spec + " but the PyTorch engine sees " + visible
                        + " CUDA device(s); build with `mvn -Pcuda package` (pytorch-native-cu124 from Maven Central) "
                        + "on a machine with an NVIDIA driver, or use engram.device=cpu");
            }
        }
        selected = device;
        return device;
    }

    /** The selected device (CPU unless {@link #select} chose another). */
    public static Device selected() {
        return selected;
    }
}
