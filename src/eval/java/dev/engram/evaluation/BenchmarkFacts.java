package dev.engram.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.editing.ContrastSubjects;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The benchmark's fact tables ({@code benchmark/hand-facts.tsv}, {@code benchmark/geonames-facts.tsv}: relation,
 * subject, object) and the fixed partition of their subjects. A subject belongs to one {@link Part} in every relation,
 * by the first byte of the SHA-256 of its lower-cased name: 0–69 % of the range TEST, 70–84 % DEV, the rest POOL
 * (subjects kept out of both record sets; the gate's neighbour pool is drawn from them). Subjects of the training
 * contrast pool are left out of every part.
 */
public final class BenchmarkFacts {
    static final List<String> TABLES = List.of("hand-facts.tsv", "geonames-facts.tsv");
    /**
     * More facts of the same relations, for the record sets that sequential editing at scale needs beyond the frozen
     * test set ({@code geonames_facts.py scale}); the frozen records were built without them.
     */
    static final String SCALE_TABLE = "geonames-scale-facts.tsv";
    /**
     * Record files that earlier work was designed or tuned on: their subjects stay out of the benchmark, as the training
     * contrast pool does.
     */
    static final List<Path> EARLIER_RECORDS = List.of(Path.of("src/test/resources/dev/smollm2-dev.jsonl"),
            Path.of("editing/smollm2-capitals.jsonl"), Path.of("editing/smollm2-batch-20.jsonl"));

    /** Where a subject's facts may be used. */
    public enum Part { TEST, DEV, POOL }

    /** One fact: (subject, relation, object). */
    public record Fact(String relation, String subject, String object) {
    }

    private final List<Fact> facts;

    private BenchmarkFacts(List<Fact> facts) {
        this.facts = facts;
    }

    /** The tables' facts, less those about a subject in {@code excludedSubjects} (compared ignoring case). */
    public static BenchmarkFacts load(List<String> excludedSubjects) {
        return new BenchmarkFacts(read(TABLES, excludedSubjects));
    }

    /**
     * {@link #load}'s facts, then those of {@link #SCALE_TABLE} about subjects none of them has (a city named like a
     * country or a company is left out).
     */
    public static BenchmarkFacts loadWithScale(List<String> excludedSubjects) {
        List<Fact> out = new ArrayList<>(read(TABLES, excludedSubjects));
        List<String> known = new ArrayList<>(excludedSubjects);
        read(TABLES, List.of()).forEach(f -> known.add(f.subject()));
        out.addAll(read(List.of(SCALE_TABLE), known));
        return new BenchmarkFacts(List.copyOf(out));
    }

    /** The facts of {@link #SCALE_TABLE} among these. */
    public List<Fact> scale() {
        List<Fact> scale = read(List.of(SCALE_TABLE), List.of());
        return facts.stream().filter(scale::contains).toList();
    }

    private static List<Fact> read(List<String> tables, List<String> excludedSubjects) {
        Set<String> excluded = new java.util.HashSet<>();
        excludedSubjects.forEach(s -> excluded.add(s.strip().toLowerCase(Locale.ROOT)));
        List<Fact> out = new ArrayList<>();
        for (String table : tables) {
            for (String line : lines(table)) {
                String[] f = line.split("\t");
                if (f.length != 3) {
                    throw new IllegalStateException(table + ": not three tab-separated fields: " + line);
                }
                if (!excluded.contains(f[1].strip().toLowerCase(Locale.ROOT))) {
                    out.add(new Fact(f[0], f[1].strip(), f[2].strip()));
                }
            }
        }
        return List.copyOf(out);
    }

    /** The contrast pool's subjects and those of {@link #EARLIER_RECORDS} (read from the working directory). */
    public static List<String> excludedSubjects() {
        List<String> out = new ArrayList<>(ContrastSubjects.pool());
        out.addAll(earlierRecordSubjects());
        return out;
    }

    /** The subjects of {@link #EARLIER_RECORDS}, in file order. */
    public static List<String> earlierRecordSubjects() {
        List<String> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (Path file : EARLIER_RECORDS) {
            try {
                for (String line : Files.readAllLines(file)) {
                    if (!line.isBlank() && json.readTree(line).hasNonNull("subject")) {
                        out.add(json.readTree(line).get("subject").asText());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** The part {@code subject} belongs to. */
    public static Part part(String subject) {
        int b;
        try {
            b = MessageDigest.getInstance("SHA-256")
                    .digest(subject.strip().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8))[0] & 0xff;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return b < 179 ? Part.TEST : b < 218 ? Part.DEV : Part.POOL;
    }

    /** The relation's facts about subjects of {@code part}, in table order. */
    public List<Fact> of(String relation, Part part) {
        return facts.stream().filter(f -> f.relation().equals(relation) && part(f.subject()) == part).toList();
    }

    /** Every object of the relation, in first-seen order. */
    public List<String> objects(String relation) {
        Set<String> out = new LinkedHashSet<>();
        facts.stream().filter(f -> f.relation().equals(relation)).forEach(f -> out.add(f.object()));
        return List.copyOf(out);
    }

    /** Every fact. */
    public List<Fact> all() {
        return facts;
    }

    static InputStream resource(String name) {
        return Objects.requireNonNull(BenchmarkFacts.class.getResourceAsStream("benchmark/" + name), name);
    }

    private static List<String> lines(String table) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(resource(table), StandardCharsets.UTF_8))) {
            return in.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
