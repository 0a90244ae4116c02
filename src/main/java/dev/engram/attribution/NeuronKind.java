package dev.engram.attribution;

/** The two kinds of neurons the method scores. */
public enum NeuronKind { FFN, ATTENTION }
