package dev.engram.editing;

import java.util.function.Supplier;

/** What every edit method states about itself: its name, its options record and their defaults. */
abstract class NamedMethod<O extends MethodOptions> implements EditMethod<O> {
    private final String name;
    private final Class<O> optionsType;
    private final Supplier<O> defaults;

    NamedMethod(String name, Class<O> optionsType, Supplier<O> defaults) {
        this.name = name;
        this.optionsType = optionsType;
        this.defaults = defaults;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Class<O> optionsType() {
        return optionsType;
    }

    @Override
    public final O defaults() {
        return defaults.get();
    }

    @Override
    public final String toString() {
        return name;
    }
}
