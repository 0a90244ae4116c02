package dev.engram.editing;

/** The settings of one edit method; each method has its own record. */
public interface MethodOptions {
    /** The method these options are for. */
    EditMethod<?> method();
}
