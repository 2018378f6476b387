package org.deebert.streams.classifier;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.tensorflow.engine.SavedModelBundle;
import ai.djl.tensorflow.engine.TfSymbolBlock;
import ai.djl.training.ParameterStore;

import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ShadowTrace;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.ModelCardMismatchException;
import org.deebert.streams.model.ModelCardValidator;
import org.deebert.streams.model.SignatureNames;
import org.deebert.streams.model.StartingSetting;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * DeeBERT early-exit classifier over one exported model directory
 * ({@code model-export/docs/export-format.md}), running the SavedModel's per-layer signatures with
 * DJL's TensorFlow engine.
 *
 * <p>Inference is paper Algorithm 1 (Xin et al. 2020, section 3.2), batched: {@code embed}, then
 * {@code layer_1}, {@code layer_2}, ...; after layer i each remaining input's exit score
 * ({@link ExitScores}: entropy of off-ramp i or Jensen-Shannon divergence between off-ramps i and i-1,
 * in nats, or PABEE's count of agreeing earlier off-ramps, in layers) is read into Java; inputs the
 * {@link ExitSetting} accepts leave with off-ramp i's prediction (for PATIENCE a row stays in the batch
 * until its label has held for {@code patience} more off-ramps), and the rows that stay are cut
 * out of {@code hidden_out} (B,T,H) and {@code attention_mask} (B,T) with a boolean mask, so layer i+1
 * runs only on them (padding columns no remaining row needs are dropped too). Layer n's off-ramp (the
 * original classifier) takes whoever is left.
 *
 * <p>Shadow samples ({@link #classifyBatch(List, List, ExitSetting, boolean[])}): a flagged input is recorded
 * at the exit its policy chose but is not cut out of the batch, so it runs every layer and its
 * {@link Classification#shadow()} holds every off-ramp's label, entropy and divergence ({@link ShadowTrace}), from
 * which an accuracy-budget controller can replay any threshold S.
 *
 * <p>A sentence-pair model ({@link ModelCard#textPair()}) classifies pairs: {@code [CLS] text [SEP] text_pair
 * [SEP]}, with the token type ids fed to {@code embed} as {@link SignatureNames#TOKEN_TYPE_IDS}; the layers
 * and the exit rule are the same.
 *
 * <p>Thread-safety: calls are serialized ({@code synchronized}); the TF session would allow
 * concurrency, but one batch already uses the intra-op threads. Give each stream thread its own
 * instance for parallelism. Message text is never logged.
 */
public final class EarlyExitClassifier implements TextClassifier {

    private static final Logger LOG = LoggerFactory.getLogger(EarlyExitClassifier.class);
    /**
     * Input arrays always live in host memory: DJL feeds signatures through TF_SessionRun, which takes
     * host tensors (a GPU array would be copied back first), and the session itself places the graph
     * on the GPU when it has one.
     */
    private static final Device HOST = Device.cpu();

    private final ModelCard card;
    private final ZooModel<NDList, NDList> model;
    private final TfSymbolBlock embed;
    private final TfSymbolBlock serving;
    private final TfSymbolBlock[] layers;
    private final BatchTokenizer tokenizer;
    private final Device device;
    private final int maxBatchSize;
    private final ClassifierOptions.Precision precision;
    private final ParameterStore parameterStore;

    private EarlyExitClassifier(ModelCard card, ZooModel<NDList, NDList> model, TfSymbolBlock serving,
            BatchTokenizer tokenizer, Device device, ClassifierOptions options) {
        this.card = card;
        this.model = model;
        this.serving = serving;
        SavedModelBundle bundle = serving.getSavedModelBundle();
        // Extra blocks share the bundle and are never closed: closing one would close the bundle.
        this.embed = new TfSymbolBlock(bundle, SignatureNames.EMBED);
        this.layers = new TfSymbolBlock[card.numLayers()];
        for (int i = 1; i <= layers.length; i++) {
            layers[i - 1] = new TfSymbolBlock(bundle, SignatureNames.layer(i));
        }
        this.tokenizer = tokenizer;
        this.device = device;
        this.maxBatchSize = options.maxBatchSize();
        this.precision = options.precision();
        this.parameterStore = new ParameterStore(model.getNDManager(), false);
    }

    /**
     * Loads a model directory: reads and validates {@code model_card.json}, loads the SavedModel once
     * (tag from the card), checks every signature against the card, opens the tokenizer and logs the
     * device TensorFlow runs on.
     *
     * @param modelDir the exported model directory (holds model_card.json, tokenizer.json, saved_model/)
     * @param options  device preference and max batch size
     * @return a ready classifier; close it to free the TF session
     * @throws ModelCardMismatchException if the card disagrees with the SavedModel or the files
     * @throws UncheckedIOException       if the card, tokenizer or SavedModel cannot be read
     * @throws IllegalStateException      if GPU is required and TensorFlow sees none, or TF fails to load
     */
    public static EarlyExitClassifier load(Path modelDir, ClassifierOptions options) {
        Objects.requireNonNull(options, "options");
        ModelCard card = ModelCard.read(modelDir);
        ModelCardValidator.validateFiles(card, modelDir);

        Criteria.Builder<NDList, NDList> builder = Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optModelPath(modelDir.resolve(card.savedModel()))
                .optEngine("TensorFlow")
                .optOption("Tags", card.tag())
                // serving_default is the main block; layer signatures share its bundle.
                .optOption("SignatureDefKey", SignatureNames.SERVING_DEFAULT);
        builder.optOption("ConfigProto", SessionConfigs.criteriaOption(options));

        ZooModel<NDList, NDList> model;
        try {
            model = builder.build().loadModel();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load SavedModel from " + modelDir, e);
        } catch (ModelNotFoundException | MalformedModelException e) {
            throw new IllegalStateException("cannot load SavedModel from " + modelDir + ": " + e.getMessage(), e);
        }
        BatchTokenizer tokenizer = null;
        try {
            TfSymbolBlock serving = (TfSymbolBlock) model.getBlock();
            SavedModelBundle bundle = serving.getSavedModelBundle();
            ModelCardValidator.validateSignatures(card, SavedModelSignatures.from(bundle.getMetaGraphDef()));
            List<String> sessionDevices = TfDevices.sessionDevices(bundle);
            Device device = TfDevices.choose(options.device(), sessionDevices);
            LOG.info("Loaded model {} {} ({} layers, labels {}, max {} tokens, input {}); preference {}, TensorFlow session"
                            + " devices {}, DJL sees {} GPU(s); classifier runs on {} in {} (TF threads intra {}, inter {};"
                            + " 0 = TensorFlow's default)",
                    card.name(), card.version(), card.numLayers(), card.labels(), card.maxSeqLength(),
                    card.textPair() ? "text pairs" : "single texts", options.device(), sessionDevices, Engine.getInstance().getGpuCount(), device,
                    options.precision(), options.intraOpThreads(), options.interOpThreads());
            tokenizer = BatchTokenizer.open(modelDir.resolve(card.tokenizer()), card.maxSeqLength());
            return new EarlyExitClassifier(card, model, serving, tokenizer, device, options);
        } catch (RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            model.close();
            throw e;
        }
    }

    @Override
    public List<Classification> classify(List<String> texts, ExitSetting setting) {
        return classifyBatch(texts, null, setting).classifications();
    }

    @Override
    public List<Classification> classify(List<String> texts, List<String> textPairs, ExitSetting setting) {
        return classifyBatch(texts, textPairs, setting).classifications();
    }

    /**
     * As {@link #classifyBatch(List, List, ExitSetting, boolean[])}, returning the classifications only.
     *
     * @throws IllegalArgumentException as there
     */
    @Override
    public List<Classification> classify(List<String> texts, List<String> textPairs, ExitSetting setting,
            boolean[] shadow) {
        return classifyBatch(texts, textPairs, setting, shadow).classifications();
    }

    @Override
    public boolean textPair() {
        return card.textPair();
    }

    /**
     * {@link #classifyBatch(List, List, ExitSetting)} for single texts.
     *
     * @throws IllegalArgumentException as there, and if the model is a sentence-pair model
     */
    public BatchResult classifyBatch(List<String> texts, ExitSetting setting) {
        return classifyBatch(texts, null, setting);
    }

    /**
     * Same as {@link #classify}, plus what the call cost (layers run, exit histogram, time in ms).
     * Inputs beyond the max batch size are split into chunks, each run through Algorithm 1 on its own.
     *
     * @param texts     raw texts, each non-null and non-empty (for a sentence-pair model: the first texts)
     * @param textPairs for a sentence-pair model the second texts, as many, each non-null and non-empty; null
     *                  for a single-text model
     * @param setting   the exit policy and threshold (S in nats, or the patience in layers)
     * @return classifications in input order and the call's {@link BatchStats}
     * @throws IllegalArgumentException if a text or text pair is null or empty ({@link EmptyText}: no visible
     *     character; the message gives its index only), pairs are missing for a sentence-pair model or given to a
     *     single-text one, or the setting does not fit this model's depth and number of labels
     *     ({@link ExitSetting#validateFor(int, int)})
     * @throws IllegalStateException    if the classifier is closed
     */
    public BatchResult classifyBatch(List<String> texts, List<String> textPairs, ExitSetting setting) {
        return classifyBatch(texts, textPairs, setting, null);
    }

    /**
     * {@link #classifyBatch(List, List, ExitSetting)} with shadow samples, the accuracy budget's view of what
     * early exit costs in accuracy.
     *
     * <p>An input whose {@code shadow} flag is set is classified exactly as without the flag: its
     * {@link Classification} (label, probabilities, exit layer, entropy, exit score) is the one of the off-ramp
     * its policy chose, and the exit histogram counts it there. But it is not cut out of the batch when it
     * exits: it stays in {@code hidden} (B,T,H) and {@code attention_mask} (B,T) up to layer n (it is not run a
     * second time), and its {@link Classification#shadow()} is a {@link ShadowTrace} of length n: per off-ramp
     * the label ({@link ExitScores#argmax} of its softmax), the entropy (the signature's {@code entropy} output,
     * nats) and the Jensen-Shannon divergence from the previous off-ramp (nats, +Infinity at layer 1). From one
     * trace the budget controller replays any threshold S (where the input would have left, and whether that
     * answer equals the full model's) without running the model again. Inputs without the flag get
     * {@code shadow() == null}.
     *
     * <p>Cost: a shadow sample that the policy lets out at layer k runs the {@code n - k} layers it would have
     * skipped (reported as {@link BatchStats#shadowLayerRows()}, included in
     * {@link BatchStats#layerRowsExecuted()}), and keeps its padding columns in the batch while it stays.
     * Sampling a fraction r of the inputs adds about {@code r * (n - mean exit layer) / mean exit layer} to the
     * layers' cost; tokenizing and {@code embed} cost nothing extra. Other inputs' results may differ from a
     * call without shadow samples by float rounding only (they share batches of another shape); with
     * {@code shadow} null or all false the call is the same as {@link #classifyBatch(List, List, ExitSetting)}.
     *
     * @param texts     raw texts, as in {@link #classifyBatch(List, List, ExitSetting)}
     * @param textPairs the second texts of a sentence-pair model, or null
     * @param setting   the exit policy and threshold in force (any policy; PATIENCE too)
     * @param shadow    one flag per input, {@code shadow[i]} for {@code texts.get(i)}; null for none (not modified)
     * @return classifications in input order and the call's {@link BatchStats}
     * @throws IllegalArgumentException as {@link #classifyBatch(List, List, ExitSetting)}, and if {@code shadow}
     *     is not null and its length differs from the number of texts
     * @throws IllegalStateException    if the classifier is closed
     */
    public synchronized BatchResult classifyBatch(List<String> texts, List<String> textPairs, ExitSetting setting,
            boolean[] shadow) {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(setting, "setting");
        setting.validateFor(layers.length, card.labels().size());
        checkInputs(texts, textPairs);
        if (shadow != null && shadow.length != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + shadow.length + " shadow flags");
        }
        boolean[] sampled = anySet(shadow) ? shadow.clone() : null; // none set: the plain path
        long start = System.nanoTime();
        Classification[] results = new Classification[texts.size()];
        long[] histogram = new long[layers.length];
        long[] cost = new long[2]; // {layer-rows run, of which shadow samples' extra}
        int chunks = 0;
        for (int from = 0; from < texts.size(); from += maxBatchSize) {
            int to = Math.min(texts.size(), from + maxBatchSize);
            runAlgorithm1(encode(texts.subList(from, to), textPairs == null ? null : textPairs.subList(from, to)),
                    setting, sampled == null ? null : Arrays.copyOfRange(sampled, from, to), results, from, histogram,
                    cost);
            chunks++;
        }
        double elapsedMs = (System.nanoTime() - start) / 1e6;
        return new BatchResult(Arrays.asList(results),
                new BatchStats(texts.size(), chunks, cost[0], cost[1], histogram, elapsedMs));
    }

    private static boolean anySet(boolean[] flags) {
        if (flags != null) {
            for (boolean flag : flags) {
                if (flag) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Algorithm 1 on one chunk. Every NDArray lives in a sub-manager closed at the end (signature
     * outputs attach to the manager of their first input, attention_mask).
     *
     * @param shadow per chunk row, whether it is a shadow sample (kept in the batch after its exit, traced);
     *               null for none
     * @param cost   {@code cost[0] +=} layer-rows executed (sum of exit layers of the chunk's inputs, plus the
     *               shadow samples' extra), {@code cost[1] +=} the shadow samples' extra layer-rows
     */
    private void runAlgorithm1(BatchTokenizer.TokenizedBatch batch, ExitSetting setting, boolean[] shadow,
            Classification[] results, int offset, long[] histogram, long[] cost) {
        int numLayers = layers.length;
        long layerRows = 0;
        long shadowLayerRows = 0;
        // Shadow samples, per chunk row: whether the policy exit is recorded, and the trace (null: not sampled).
        boolean[] recorded = shadow == null ? null : new boolean[batch.rows()];
        int[][] traceLabels = shadow == null ? null : new int[batch.rows()][];
        double[][] traceEntropies = shadow == null ? null : new double[batch.rows()][];
        double[][] traceDivergences = shadow == null ? null : new double[batch.rows()][];
        if (shadow != null) {
            for (int row = 0; row < batch.rows(); row++) {
                if (shadow[row]) {
                    traceLabels[row] = new int[numLayers];
                    traceEntropies[row] = new double[numLayers];
                    traceDivergences[row] = new double[numLayers];
                }
            }
        }
        try (NDManager manager = model.getNDManager().newSubManager(HOST)) {
            NDArray mask = manager.create(batch.mask(), new Shape(batch.rows(), batch.seqLen())); // int32 (B,T)
            Map<String, NDArray> embedInputs = tokenInputs(manager, batch, mask);
            NDList embedded = call(embed, embedInputs);
            NDArray hidden = embedded.get(SignatureNames.HIDDEN); // float32 (B,T,H)
            for (NDArray input : embedInputs.values()) {
                if (input != mask) {
                    input.close();
                }
            }

            int[] chunkRow = identity(batch.rows()); // live row -> row in this chunk
            ExitScores.OffRamp[] previous = null; // off-ramp i-1 per live row, for DIVERGENCE and PATIENCE
            for (int layer = 1; layer <= numLayers; layer++) {
                NDList out = call(layers[layer - 1], Map.of(SignatureNames.HIDDEN, hidden,
                        SignatureNames.ATTENTION_MASK, mask));
                hidden.close();
                int live = chunkRow.length;
                layerRows += live;
                float[] entropy = out.get(SignatureNames.ENTROPY).toFloatArray(); // (B') nats
                float[] probs = out.get(SignatureNames.PROBS).toFloatArray(); // (B',C) row-major
                int classes = probs.length / live;

                boolean[] keep = new boolean[live];
                ExitScores.OffRamp[] current = new ExitScores.OffRamp[live];
                int kept = 0;
                for (int r = 0; r < live; r++) {
                    ExitScores.OffRamp before = previous == null ? null : previous[r];
                    current[r] = ExitScores.next(before, Arrays.copyOfRange(probs, r * classes, (r + 1) * classes));
                    int row = chunkRow[r];
                    if (shadow != null && shadow[row]) {
                        // A shadow sample: traced at every layer, always kept; recorded once, at its policy exit.
                        traceLabels[row][layer - 1] = current[r].label();
                        traceEntropies[row][layer - 1] = entropy[r];
                        traceDivergences[row][layer - 1] = layer == 1 ? Double.POSITIVE_INFINITY
                                : ExitScores.jensenShannon(current[r].probs(), before.probs());
                        keep[r] = true;
                        kept++;
                        if (recorded[row]) {
                            shadowLayerRows++;
                            continue;
                        }
                    }
                    double score = ExitScores.score(setting.policy(), entropy[r], current[r], before);
                    if (layer == numLayers || ExitScores.exits(setting, layer, current[r].label(), score)) {
                        results[offset + row] = classification(current[r], layer, entropy[r], score,
                                batch.numTokens()[row]);
                        histogram[layer - 1]++;
                        if (recorded != null) {
                            recorded[row] = true;
                        }
                    } else if (!keep[r]) {
                        keep[r] = true;
                        kept++;
                    }
                }
                NDArray hiddenOut = out.get(SignatureNames.HIDDEN_OUT);
                for (NDArray array : out) {
                    if (array != hiddenOut) {
                        array.close();
                    }
                }
                if (kept == 0 || layer == numLayers) {
                    break; // no row left (shadow samples stay to layer n), or none of them needs more layers
                }
                if (kept == live) {
                    hidden = hiddenOut;
                    previous = current;
                    continue;
                }
                NDArray keepMask = manager.create(keep); // bool (B')
                hidden = hiddenOut.booleanMask(keepMask); // (B'',T,H)
                NDArray keptMask = mask.booleanMask(keepMask); // (B'',T)
                hiddenOut.close();
                mask.close();
                keepMask.close();
                mask = keptMask;
                int[] nextRows = new int[kept];
                ExitScores.OffRamp[] nextPrevious = new ExitScores.OffRamp[kept];
                for (int r = 0, k = 0; r < live; r++) {
                    if (keep[r]) {
                        nextRows[k] = chunkRow[r];
                        nextPrevious[k++] = current[r];
                    }
                }
                chunkRow = nextRows;
                previous = nextPrevious;
                // Drop padding columns no remaining row needs, shadow samples included (results do not depend on
                // padding length).
                int seqLen = 0;
                for (int row : chunkRow) {
                    seqLen = Math.max(seqLen, batch.numTokens()[row]);
                }
                if (seqLen < mask.getShape().get(1)) {
                    NDArray shorterHidden = hidden.get(":, :" + seqLen); // (B'',T',H)
                    NDArray shorterMask = mask.get(":, :" + seqLen); // (B'',T')
                    hidden.close();
                    mask.close();
                    hidden = shorterHidden;
                    mask = shorterMask;
                }
            }
        }
        if (shadow != null) {
            for (int row = 0; row < batch.rows(); row++) {
                if (shadow[row]) {
                    Classification c = results[offset + row];
                    results[offset + row] = new Classification(c.labelIndex(), c.label(), c.probabilities(),
                            c.exitLayer(), c.numLayers(), c.entropy(), c.exitScore(), c.numTokens(),
                            new ShadowTrace(traceLabels[row], traceEntropies[row], traceDivergences[row]));
                }
            }
        }
        cost[0] += layerRows;
        cost[1] += shadowLayerRows;
    }

    /**
     * {@link #allOffRampLogits(List, List)} for single texts.
     *
     * @throws IllegalArgumentException as there, and if the model is a sentence-pair model
     */
    public float[][][] allOffRampLogits(List<String> texts) {
        return allOffRampLogits(texts, null);
    }

    /**
     * Every off-ramp's logits without early exit, from the {@code serving_default} signature (for
     * parity checks against Python's reference_outputs.jsonl and for debugging).
     *
     * @param texts     raw texts, each non-null and non-empty
     * @param textPairs the second texts of a sentence-pair model, as many, non-null and non-empty; null for a
     *                  single-text model
     * @return {@code [input][layer-1][label]} logits, float32 (B,n,C)
     * @throws IllegalArgumentException if a text or text pair is null or empty ({@link EmptyText}), or pairs are
     *     missing for a sentence-pair model or given to a single-text one
     */
    public synchronized float[][][] allOffRampLogits(List<String> texts, List<String> textPairs) {
        checkInputs(texts, textPairs);
        int numLayers = layers.length;
        int classes = card.labels().size();
        float[][][] result = new float[texts.size()][][];
        for (int from = 0; from < texts.size(); from += maxBatchSize) {
            int to = Math.min(texts.size(), from + maxBatchSize);
            BatchTokenizer.TokenizedBatch batch = encode(texts.subList(from, to),
                    textPairs == null ? null : textPairs.subList(from, to));
            try (NDManager manager = model.getNDManager().newSubManager(HOST)) {
                NDArray mask = manager.create(batch.mask(), new Shape(batch.rows(), batch.seqLen()));
                NDList out = call(serving, tokenInputs(manager, batch, mask));
                float[] flat = out.get(SignatureNames.ALL_LOGITS).toFloatArray();
                for (int r = 0; r < batch.rows(); r++) {
                    result[from + r] = new float[numLayers][];
                    for (int l = 0; l < numLayers; l++) {
                        int start = (r * numLayers + l) * classes;
                        result[from + r][l] = Arrays.copyOfRange(flat, start, start + classes);
                    }
                }
            }
        }
        return result;
    }

    /**
     * Token ids the model sees for a text: [CLS] ... [SEP], truncated to max_seq_length.
     *
     * @param text a non-null, non-empty text
     * @return the ids, as Python's {@code tokenizers} gives them for the same tokenizer.json
     */
    public synchronized long[] tokenIds(String text) {
        checkInputs(Arrays.asList(text), null);
        return tokenizer.tokenIds(text);
    }

    /**
     * Token ids and token type ids the model sees for a sentence pair: {@code [CLS] text [SEP] text_pair [SEP]},
     * truncated longest-first to max_seq_length, type 0 up to and including the first [SEP] and 1 after it.
     *
     * @param text     the first text, non-null and non-empty
     * @param textPair the second text, non-null and non-empty
     * @return {@code {ids, typeIds}}, as Python's {@code tokenizers} gives them for the same tokenizer.json
     * @throws IllegalArgumentException if a text is null or empty ({@link EmptyText}), or the model is a single-text model
     */
    public synchronized long[][] pairTokenIds(String text, String textPair) {
        checkInputs(Arrays.asList(text), Arrays.asList(textPair));
        return tokenizer.pairTokenIds(text, textPair);
    }

    /** Tokenizes single texts ({@code textPairs} null) or sentence pairs (checked by {@link #checkInputs}). */
    private BatchTokenizer.TokenizedBatch encode(List<String> texts, List<String> textPairs) {
        return textPairs == null ? tokenizer.encode(texts) : tokenizer.encodePairs(texts, textPairs);
    }

    /**
     * The token inputs of {@code embed} / {@code serving_default}: input_ids and the given attention_mask, plus
     * token_type_ids for sentence pairs; every int32 (B,T), created in {@code manager}.
     */
    private static Map<String, NDArray> tokenInputs(NDManager manager, BatchTokenizer.TokenizedBatch batch, NDArray mask) {
        Shape tokenShape = new Shape(batch.rows(), batch.seqLen());
        NDArray ids = manager.create(batch.inputIds(), tokenShape);
        if (batch.tokenTypeIds() == null) {
            return Map.of(SignatureNames.ATTENTION_MASK, mask, SignatureNames.INPUT_IDS, ids);
        }
        return Map.of(SignatureNames.ATTENTION_MASK, mask, SignatureNames.INPUT_IDS, ids,
                SignatureNames.TOKEN_TYPE_IDS, manager.create(batch.tokenTypeIds(), tokenShape));
    }

    /**
     * Calls one signature with inputs keyed by name. DJL feeds inputs in the signature's sorted key
     * order and looks a mismatching NDArray name up by name (a miss crashes the JVM in native code),
     * so every array is named after its key and put in that order.
     */
    private NDList call(TfSymbolBlock block, Map<String, NDArray> inputs) {
        NDList ordered = new NDList(inputs.size());
        for (String key : block.describeInput().keys()) {
            NDArray array = inputs.get(key);
            if (array == null) {
                throw new IllegalStateException("signature input " + key + " not provided");
            }
            array.setName(key);
            ordered.add(array);
        }
        return block.forward(parameterStore, ordered, false);
    }

    private Classification classification(ExitScores.OffRamp offRamp, int exitLayer, double entropy, double score,
            int numTokens) {
        int best = offRamp.label();
        return new Classification(best, card.labels().get(best), offRamp.probs(), exitLayer, layers.length, entropy,
                score, numTokens);
    }

    /**
     * Checks texts (and text pairs) and that pairs are given exactly when the model classifies pairs; messages
     * give indices only, never text.
     */
    private void checkInputs(List<String> texts, List<String> textPairs) {
        if (card.textPair() && textPairs == null) {
            throw new IllegalArgumentException("model " + card.name() + " classifies text pairs (model card input.text_pair)"
                    + " but no text pairs were given");
        }
        if (!card.textPair() && textPairs != null) {
            throw new IllegalArgumentException("model " + card.name() + " classifies single texts, not text pairs");
        }
        checkNonEmpty("text", texts);
        if (textPairs != null) {
            if (textPairs.size() != texts.size()) {
                throw new IllegalArgumentException(texts.size() + " texts but " + textPairs.size() + " text pairs");
            }
            checkNonEmpty("text pair", textPairs);
        }
    }

    private static void checkNonEmpty(String what, List<String> texts) {
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (EmptyText.is(text)) {
                throw new IllegalArgumentException(what + " at index " + i + " is " + (text == null ? "null" : "empty"));
            }
        }
    }

    private static int[] identity(int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        return rows;
    }

    /** @return the parsed, validated model card */
    public ModelCard modelCard() {
        return card;
    }

    /** @return the arithmetic the session runs in (FLOAT32 unless the operator opted into BFLOAT16) */
    public ClassifierOptions.Precision precision() {
        return precision;
    }

    /** @return the device the TF session computes on: gpu(0) when it has a GPU and it is allowed, else cpu() */
    public Device device() {
        return device;
    }

    @Override
    public List<String> labels() {
        return card.labels();
    }

    @Override
    public int numLayers() {
        return layers.length;
    }

    @Override
    public String modelName() {
        return card.name();
    }

    @Override
    public String modelVersion() {
        return card.version();
    }

    @Override
    public ExitSetting recommendedSetting() {
        return card.recommendedSetting();
    }

    @Override
    public ExitSetting startingSetting(StartingSetting choice) {
        return choice.resolve(card);
    }

    /** Frees the tokenizer and the TF session (and with it every signature block). */
    @Override
    public synchronized void close() {
        tokenizer.close();
        model.close();
    }
}
