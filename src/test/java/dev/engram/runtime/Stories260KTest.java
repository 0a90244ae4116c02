package dev.engram.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.inference.GreedyGenerator;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.tokenizer.Llama2cTokenizer;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The real pretrained stories260K checkpoint reproduces its known behaviour. */
class Stories260KTest {
    private static final String KNOWN_STORY =
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
    private static final Model model = TestModels.sharedStories260K();

    @Test
    void readsTheHeader() {
        ModelConfig c = model.config();
        assertEquals(64, c.dModel());
        assertEquals(172, c.dFfn());
        assertEquals(5, c.nLayers());
        assertEquals(8, c.nHeads());
        assertEquals(4, c.nKvHeads());
        assertEquals(512, c.vocabSize());
        assertTrue(c.tiedEmbeddings());
    }

    @Test
    void greedyDecodingFromBosReproducesTheKnownStory() {
        int[] out = new GreedyGenerator(model).generate(new int[] {Llama2cTokenizer.BOS}, 40);
        String text = model.tokenizer().decode(out);
        assertTrue(text.startsWith(KNOWN_STORY), "greedy output was: " + text);
    }

    @Test
    void timeFollowsOnceUponA() {
        int[] prompt = model.tokenizer().encodePrompt("Once upon a");
        int[] time = model.tokenizer().encodeContinuation(" time");
        assertEquals(1, time.length);
        NextTokenDistribution p = new NextTokenDistribution(ForwardPass.of(model).lastLogits(prompt));
        assertTrue(p.probability(time[0]) >= 0.99, "P(' time') = " + p.probability(time[0]));
        assertEquals(time[0], p.argmax());
    }

    @Test
    void tokenizerRoundTripsTextAndStartsWithBos() {
        String text = "Lily saw a big dog. It was happy!";
        int[] ids = model.tokenizer().encodePrompt(text);
        assertEquals(Llama2cTokenizer.BOS, ids[0]);
        assertEquals(text, model.tokenizer().decode(ids));
        // byte fallback: a character outside the 512-token vocabulary becomes its UTF-8 bytes
        int[] snow = model.tokenizer().encodeContinuation("☃");
        assertArrayEquals(new int[] {0xE2 + 3, 0x98 + 3, 0x83 + 3}, snow, Arrays.toString(snow));
        assertEquals("☃", model.tokenizer().decode(snow));
    }
}
