package dev.engram.verification;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ROME's fluency measure: the weighted n-gram entropy of a text, over words.
 * <pre>
 *   H_n = −Σ_g f_g log2 f_g  (f_g: frequency of n-gram g among the text's n-grams)
 *   fluency = mean(2/3 · H_2, 4/3 · H_3)
 * </pre>
 * Words are runs of letters and digits, and each punctuation mark on its own (close to NLTK's word_tokenize, which
 * ROME uses). A text that repeats itself has low entropy. ROME reports this value ×100.
 */
public final class NgramEntropy {
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}_']+|[^\\p{L}\\p{N}_'\\s]");
    private static final int[] ORDERS = {2, 3};
    private static final double[] WEIGHTS = {2.0 / 3, 4.0 / 3};

    private NgramEntropy() {
    }

    public static double of(String text) {
        List<String> words = words(text);
        double sum = 0;
        for (int i = 0; i < ORDERS.length; i++) {
            sum += WEIGHTS[i] * entropy(words, ORDERS[i]);
        }
        return sum / ORDERS.length;
    }

    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** H_n in bits; 0 for a text with no n-gram. */
    static double entropy(List<String> words, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= words.size(); i++) {
            counts.merge(words.subList(i, i + n), 1, Integer::sum);
        }
        int total = Math.max(0, words.size() - n + 1);
        double h = 0;
        for (int c : counts.values()) {
            double f = (double) c / total;
            h -= f * Math.log(f) / Math.log(2);
        }
        return h;
    }
}
