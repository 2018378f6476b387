package org.deebert.streams.classifier;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.tensorflow.engine.SavedModelBundle;
import ai.djl.tensorflow.engine.TfSymbolBlock;

import org.deebert.streams.exit.ExitRule;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ShadowTrace;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.ModelCardMismatchException;
import org.deebert.streams.model.ModelCardValidator;
import org.deebert.streams.model.StartingSetting;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * DeeBERT early-exit classifier over one exported model directory ({@code model-export/docs/export-format.md}):
 * loads it, checks each call's inputs ({@link InputChecks}) and runs paper Algorithm 1 (Xin et al. 2020,
 * section 3.2), batched ({@link Algorithm1Loop}), on the SavedModel's per-layer signatures
 * ({@link SignatureRunner}, DJL's TensorFlow engine): after each layer the inputs the {@link ExitRule} accepts
 * leave with that off-ramp's prediction and the next layer runs only on the rest; the last off-ramp (the
 * original classifier) takes whoever is left.
 *
 * <p>Shadow samples ({@link ClassifyRequest#shadow()}) run every layer and carry every off-ramp's answer
 * ({@link ShadowTrace}), from which an accuracy-budget controller can replay any threshold S. A sentence-pair
 * model ({@link ModelCard#textPair()}) reads {@code [CLS] text [SEP] text_pair [SEP]} with token type ids. Every
 * off-ramp's logits without early exit, and the token ids the model sees: {@link OffRampProbe}.
 *
 * <p>Thread-safety: calls are serialized ({@code synchronized} on this instance; {@link OffRampProbe} takes the
 * same lock); the TF session would allow concurrency, but one batch already uses the intra-op threads. Give
 * each stream thread its own instance for parallelism. Message text is never logged.
 */
public final class EarlyExitClassifier implements TextClassifier {

    private static final Logger LOG = LoggerFactory.getLogger(EarlyExitClassifier.class);

    private final ModelCard card;
    private final SignatureRunner runner;
    private final Algorithm1Loop loop;
    private final BatchTokenizer tokenizer;
    private final Device device;
    private final int maxBatchSize;
    private final ClassifierOptions.Precision precision;
    private final ClassifierOptions.Buckets buckets;

    private EarlyExitClassifier(ModelCard card, ZooModel<NDList, NDList> model, BatchTokenizer tokenizer, Device device,
            ClassifierOptions options) {
        this.card = card;
        this.runner = new SignatureRunner(model, card.numLayers());
        this.loop = new Algorithm1Loop(runner, card.labels());
        this.tokenizer = tokenizer;
        this.device = device;
        this.maxBatchSize = options.maxBatchSize();
        this.precision = options.precision();
        this.buckets = options.buckets();
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

        ZooModel<NDList, NDList> model = SignatureRunner.loadModel(modelDir, card, options);
        BatchTokenizer tokenizer = null;
        try {
            SavedModelBundle bundle = ((TfSymbolBlock) model.getBlock()).getSavedModelBundle();
            ModelCardValidator.validateSignatures(card, SavedModelSignatures.from(bundle.getMetaGraphDef()));
            List<String> sessionDevices = TfDevices.sessionDevices(bundle);
            Device device = TfDevices.choose(options.device(), sessionDevices);
            LOG.info("Loaded model {} {} ({} layers, labels {}, max {} tokens, input {}); preference {}, TensorFlow session"
                            + " devices {}, DJL sees {} GPU(s); classifier runs on {} in {} (TF threads intra {}, inter {};"
                            + " 0 = TensorFlow's default; {} buckets)",
                    card.name(), card.version(), card.numLayers(), card.labels(), card.maxSeqLength(),
                    card.textPair() ? "text pairs" : "single texts", options.device(), sessionDevices, Engine.getInstance().getGpuCount(), device,
                    options.precision(), options.intraOpThreads(), options.interOpThreads(),
                    options.buckets().name().toLowerCase(Locale.ROOT));
            tokenizer = BatchTokenizer.open(modelDir.resolve(card.tokenizer()), card.maxSeqLength());
            return new EarlyExitClassifier(card, model, tokenizer, device, options);
        } catch (RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            model.close();
            throw e;
        }
    }

    /** Returns {@link #classifyBatch}'s classifications; throws as there. */
    @Override
    public List<Classification> classify(ClassifyRequest request) {
        return classifyBatch(request).classifications();
    }

    @Override
    public boolean textPair() {
        return card.textPair();
    }

    /**
     * Classifies with early exit and says what the call cost (layers run, exit histogram, time in ms). The
     * inputs are tokenized together, then split into chunks of at most max batch size, each padded to its
     * longest input: by token count ({@link ClassifierOptions.Buckets#LENGTH}, {@link LengthBuckets}; the buckets
     * run through Algorithm 1 in lock-step and their survivors may share a layer call, {@link GroupMerge}) or in
     * arrival order ({@link ClassifierOptions.Buckets#NONE}, each chunk on its own). Padding is masked, so the
     * split and the merges change only float32 rounding (~1e-7 in an entropy), no label or exit layer unless a score lies
     * that close to its threshold. What shadow samples cost: {@link ClassifyRequest}.
     *
     * @param request texts, text pairs (sentence-pair model only), the exit setting and optional shadow flags
     * @return classifications in input order and the call's {@link BatchStats}
     * @throws IllegalArgumentException if a text or text pair is null or empty ({@link EmptyText}: no visible
     *     character; the message gives its index only), pairs are missing for a sentence-pair model or given to a
     *     single-text one, the setting does not fit this model's depth and number of labels
     *     ({@link ExitSetting#validateFor(int, int)}), or there are not as many shadow flags as texts
     * @throws IllegalStateException    if the classifier is closed
     */
    public synchronized BatchResult classifyBatch(ClassifyRequest request) {
        List<String> texts = request.texts();
        List<String> textPairs = request.textPairs();
        ExitSetting setting = request.setting();
        int numLayers = runner.numLayers();
        setting.validateFor(numLayers, card.labels().size());
        InputChecks.texts(card, texts, textPairs);
        InputChecks.shadowFlags(texts, request.shadow());
        boolean[] sampled = ShadowRecorder.sampledOrNull(request.shadow()); // none set: the plain path
        long start = System.nanoTime();
        return run(tokenizer.tokenize(texts, textPairs), setting, sampled, start);
    }

    /**
     * Classifies inputs given as token ids, as {@link #classifyBatch} does after tokenizing: the same chunks and
     * Algorithm 1, no shadow samples. For {@link PrecisionSelfCheck}, whose examples ({@code reference_outputs.jsonl})
     * keep the ids Python fed the model but not the texts.
     *
     * @param ids     per input, its token ids with [CLS]/[SEP], 1 to max_seq_length of them
     * @param typeIds per input, its token type ids (sentence-pair model), as long as its ids; null for single texts
     * @param setting the exit setting
     * @return classifications in input order and the call's cost
     * @throws IllegalArgumentException if an input is empty or longer than max_seq_length, type ids are given to a
     *     single-text model or missing for a sentence-pair model, or the setting does not fit the model
     */
    synchronized BatchResult classifyTokenIds(long[][] ids, long[][] typeIds, ExitSetting setting) {
        setting.validateFor(runner.numLayers(), card.labels().size());
        if ((typeIds != null) != card.textPair()) {
            throw new IllegalArgumentException(card.textPair() ? "a sentence-pair model needs token type ids"
                    : "token type ids given to a single-text model");
        }
        for (int r = 0; r < ids.length; r++) {
            if (ids[r].length == 0 || ids[r].length > card.maxSeqLength()
                    || (typeIds != null && typeIds[r].length != ids[r].length)) {
                throw new IllegalArgumentException("input " + r + " has " + ids[r].length + " token ids (1 to "
                        + card.maxSeqLength() + " allowed) or type ids of another length");
            }
        }
        return run(new BatchTokenizer.Tokens(ids, typeIds), setting, null, System.nanoTime());
    }

    private BatchResult run(BatchTokenizer.Tokens tokens, ExitSetting setting, boolean[] sampled, long start) {
        int numLayers = runner.numLayers();
        ExitRule rule = new ExitRule(setting, numLayers);
        BatchTally tally = new BatchTally(tokens.ids().length, numLayers);
        ShadowRecorder shadow = ShadowRecorder.forCall(sampled, numLayers);
        List<int[]> plan = LengthBuckets.plan(tokens.numTokens(), maxBatchSize, buckets);
        for (List<int[]> chunks : LengthBuckets.lockStep(plan, maxBatchSize, buckets)) {
            loop.run(chunks.stream().map(tokens::pad).toList(), chunks, rule, shadow, tally, maxBatchSize);
            chunks.forEach(chunk -> tally.chunk());
        }
        if (shadow != null) {
            shadow.attachTraces(tally);
        }
        return tally.toResult((System.nanoTime() - start) / 1e6);
    }

    /** @return the signatures, for {@link OffRampProbe} (which holds this instance's lock while it uses them) */
    SignatureRunner runner() {
        return runner;
    }

    /** @return the tokenizer, for {@link OffRampProbe} */
    BatchTokenizer tokenizer() {
        return tokenizer;
    }

    /** @return the most inputs run through the model at once */
    int maxBatchSize() {
        return maxBatchSize;
    }

    /** @return the parsed, validated model card */
    public ModelCard modelCard() {
        return card;
    }

    /** @return the arithmetic the session runs in (FLOAT32 unless the operator opted into BFLOAT16) */
    public ClassifierOptions.Precision precision() {
        return precision;
    }

    /** @return how each call's inputs are split into chunks */
    public ClassifierOptions.Buckets buckets() {
        return buckets;
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
        return runner.numLayers();
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
        runner.close();
    }
}
