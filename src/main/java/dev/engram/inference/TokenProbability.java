package dev.engram.inference;

/** A candidate next token with its probability and log-probability. */
public record TokenProbability(int id, String text, double probability, double logProbability) {
}
