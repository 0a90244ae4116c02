package dev.engram.service;

import dev.engram.runtime.load.WeightStorage;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Map;
import java.util.Optional;

/** Server configuration: which models exist and which one requests without a model name get. */
@ConfigMapping(prefix = "engram")
public interface EngramConfig {
    /** The model used when a request leaves {@code model} empty. */
    String defaultModel();

    /** Model name → where its files are. */
    Map<String, ModelSource> models();

    /**
     * Longest prompt (in tokens) any call takes: Predict, Generate, Compare, LocateFact and edits (LocateFact and edits
     * also have their own bounds). Attention runs in blocks of queries, so a pass's memory grows linearly with the
     * prompt's length; its time grows faster.
     */
    @WithDefault("2048")
    int maxPromptTokens();

    /**
     * Most neurons one LocateFact may return: (top_k + top_query_neurons) × attributed tokens. Each costs about 100
     * bytes of response.
     */
    @WithDefault("20000")
    int maxResponseNeurons();

    /**
     * Most float32 values one GetActivations response may hold: 1,000,000 (4 MB) keeps it under gRPC's default 4 MiB
     * message limit of clients.
     */
    @WithDefault("1000000")
    int maxActivationFloats();

    /**
     * Longest prompt (in tokens) GetActivations takes. Its pass keeps every hook point, attention patterns included
     * (n_layers · n_heads · T² floats: 71 MB for SmolLM2 at 256 tokens, growing with the square), unlike attribution's
     * lean trace.
     */
    @WithDefault("256")
    int maxActivationTokens();

    /**
     * Threads each tensor operation may use (libtorch's intra-op pool). Calls run side by side on their own worker
     * threads, so one thread each keeps a few cores from being oversubscribed: on 2 cores, 1 gives 23% more calls per
     * second under 32 clients and a 6× lower p99 for a lone Predict beside them than libtorch's default of one per
     * core (BENCHMARKS.md, "Load").
     */
    @WithDefault("1")
    int torchThreads();

    /**
     * Packed Predict passes that may run at once on one model view. With 2, a Predict that arrives while a pass runs
     * starts its own instead of waiting for that pass to end (BENCHMARKS.md, "Load").
     */
    @WithDefault("2")
    int predictRunners();

    /**
     * Where tensors live: cpu (default), gpu or gpu:N (needs the {@code cuda} build profile and a visible NVIDIA GPU;
     * see {@code runtime.ComputeDevice}).
     */
    @WithDefault("cpu")
    String device();

    /** Most requests one LocateFacts call, or lines one BatchEdit stream, may hold. */
    @WithDefault("1000")
    int maxBatch();

    /** Largest number of new tokens one Generate call may ask for. */
    @WithDefault("1024")
    int maxNewTokens();

    /**
     * Longest prompt + target (in tokens) one LocateFact may attribute. Beyond 64 tokens attribution keeps a lean trace
     * (residuals, keys, values: O(L·T·d)) and recomputes attention rows as it reads them; at this bound one request stays within 2× the
     * model's F32 size (BENCHMARKS.md, "Memory of one LocateFact").
     */
    @WithDefault("2048")
    int attributionMaxTokens();

    /** Limits and fixtures of the edit service. */
    Editing editing();

    interface Editing {
        /** Most paraphrases one edit request may carry. */
        @WithDefault("20")
        int maxParaphrases();

        /**
         * Longest edit prompt + target (in tokens). An edit traces its prompt in full (every attention pattern, for
         * the training and the closed-form solve), which grows with the square of the length.
         */
        @WithDefault("256")
        int maxPromptTokens();

        /** Most neighbour prompts one edit request may carry. */
        @WithDefault("20")
        int maxNeighbours();

        /** Where each model's sentinel prompts live, as {@code <model>.txt} (one prompt a line). */
        @WithDefault("editing/sentinels")
        String sentinelsDir();
    }

    /** How much work may run, and wait, per model (see {@link AdmissionControl}). */
    Admission admission();

    interface Admission {
        /** Attribution, edit, comparison and export calls running at once on one model. */
        @WithDefault("1")
        int heavyInFlight();

        /** Such calls waiting for a slot; one more gets RESOURCE_EXHAUSTED. */
        @WithDefault("8")
        int heavyQueue();

        /** Predictions, generations and listings running at once on one model. */
        @WithDefault("4")
        int quickInFlight();

        @WithDefault("32")
        int quickQueue();

        /**
         * Heavy calls one token holder may have running or waiting at once, over every model (0: no limit; a server
         * without tokens has no holders to count).
         */
        @WithDefault("2")
        int heavyPerCaller();
    }

    /** Who may call: bearer tokens by their SHA-256 hashes (see {@code security.AccessTokens} for the format). */
    Auth auth();

    interface Auth {
        /** A file of token entries, one a line. */
        Optional<String> tokensFile();

        /** Token entries separated by ';' (ENGRAM_AUTH_TOKENS). */
        Optional<String> tokens();

        /** How often, at most, a call re-reads the tokens file: a removed token is refused this long after at most. */
        @WithDefault("1s")
        java.time.Duration tokensRecheck();
    }

    /** The checkpoint store: its files, its ledger database and where exports go. */
    Store store();

    interface Store {
        /** Checkpoint files live in {@code <dir>/<model>/<id>/}; the embedded ledger is {@code <dir>/ledger.mv.db}. */
        @WithDefault("models/store")
        String dir();

        /** The ledger's JDBC URL: empty for the embedded H2 file in {@link #dir()}, or a {@code jdbc:postgresql:} URL. */
        Optional<String> jdbcUrl();

        Optional<String> jdbcUser();

        Optional<String> jdbcPassword();

        @WithDefault("8")
        int maxConnections();

        /** ExportCheckpoint writes {@code <export-dir>/<name>/}. */
        @WithDefault("models/exports")
        String exportDir();

        /** Exports kept: the newest this many, plus any younger than export-max-age (neither set: all). */
        Optional<Integer> exportKeepLast();

        /** Exports younger than this are kept (with export-keep-last, an export either keeps stays). */
        Optional<java.time.Duration> exportMaxAge();

        /** BackupStore writes {@code <backup-dir>/<name>/}. */
        @WithDefault("models/backups")
        String backupDir();
    }

    interface ModelSource {
        /** A GGUF file, an HF directory (config.json + safetensors) or a llama2.c directory (model .bin + tok*.bin). */
        String path();

        /** Whose sentinel prompts ({@code <sentinels-dir>/<name>.txt}) guard this model's edits; default: its own name. */
        Optional<String> sentinels();

        /**
         * How an F16 / BF16 HF checkpoint's matrices are held: STORED keeps them in F16 (half the memory; products
         * rounded to F16), F32 widens them at load. F32, GGUF and llama2.c weights are F32 either way.
         */
        @WithDefault("STORED")
        WeightStorage storage();
    }
}
