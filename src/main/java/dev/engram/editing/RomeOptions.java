package dev.engram.editing;

/**
 * ROME's settings ({@link RomeMethod}).
 *
 * @param layer  the down projection rewritten; -1: ⌊0.18·L⌉ (ROME edits layer 17 of GPT-2 XL's 48, 5 of GPT-J's 28)
 * @param target how v* is found ({@link TargetOptions})
 */
public record RomeOptions(int layer, TargetOptions target) implements MethodOptions {

    public RomeOptions {
        if (layer < -1) {
            throw new IllegalArgumentException("options.layer: must be -1 (default) or a layer, got " + layer);
        }
    }

    public static RomeOptions defaults() {
        return new RomeOptions(-1, TargetOptions.defaults());
    }

    @Override
    public EditMethod<?> method() {
        return RomeMethod.INSTANCE;
    }
}
