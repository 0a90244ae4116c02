package dev.engram.evaluation;

/**
 * One knowledge probe: a prompt whose next word is {@code gold}. The gold token is the first token of the gold text.
 *
 * @param type the knowledge type (capital, language, …) the item belongs to
 */
public record KnowledgeItem(String type, String prompt, String gold) {
}
