package org.deebert.streams.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;

/**
 * The parts of an exported model's {@code model_card.json} (format_version 1) that the runtime needs;
 * provenance, sweeps and accuracies are ignored here. See {@code model-export/docs/export-format.md}.
 * {@link ModelCardValidator} checks the card against the loaded SavedModel.
 *
 * @param formatVersion        must be {@value #FORMAT_VERSION}
 * @param name                 model name, e.g. {@code deebert-spamassassin-minilm-l6}
 * @param version              model version, e.g. {@code 1.0.0}
 * @param labels               label names; index = label index = logits column
 * @param numLayers            number of transformer layers n (= off-ramps)
 * @param hiddenSize           hidden size H
 * @param maxSeqLength         tokenizer truncation length in tokens, including [CLS] and [SEP]
 * @param input                what the model reads ({@code input} in the card); null in cards written before
 *                             sentence pairs existed, which are single-text models (see {@link #textPair()})
 * @param tokenizer            tokenizer file, relative to the model directory
 * @param savedModel           SavedModel directory, relative to the model directory
 * @param tag                  SavedModel tag set, e.g. {@code serve}
 * @param signatures           signature name -> declared inputs and outputs
 * @param recommendedThreshold the exit setting chosen at export time, may be null; its optional
 *                             {@code label_thresholds} (label name -> S in nats) are read as well
 * @param calibrated           policy name -> the cheapest setting within an accuracy budget on dev, written by
 *                             {@code python -m deebert_export calibrate}; empty when the card has none. Only
 *                             {@code policy}, {@code value} and {@code label_thresholds} are read (budget,
 *                             accuracies, date are provenance; unknown keys are ignored)
 * @param protectedLabel       the label whose recall the product reports beside accuracy (e.g. {@code spam}: a
 *                             missed spam costs more than a misrouted ham), written by {@code calibrate} or
 *                             {@code reevaluate --protect-label}; null when the card names none. Loading the model
 *                             checks that it is one of {@code labels}; see {@link #checkedProtectedLabel()}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelCard(
        @JsonProperty("format_version") int formatVersion,
        @JsonProperty("name") String name,
        @JsonProperty("version") String version,
        @JsonProperty("labels") List<String> labels,
        @JsonProperty("num_layers") int numLayers,
        @JsonProperty("hidden_size") int hiddenSize,
        @JsonProperty("max_seq_length") int maxSeqLength,
        @JsonProperty("input") Input input,
        @JsonProperty("tokenizer") String tokenizer,
        @JsonProperty("saved_model") String savedModel,
        @JsonProperty("tag") String tag,
        @JsonProperty("signatures") Map<String, Signature> signatures,
        @JsonProperty("recommended_threshold") RecommendedThreshold recommendedThreshold,
        @JsonProperty("calibrated") Map<String, RecommendedThreshold> calibrated,
        @JsonProperty("protected_label") String protectedLabel) {

    /** The only card format this runtime reads. */
    public static final int FORMAT_VERSION = 1;
    /** File name of the card inside a model directory. */
    public static final String FILE_NAME = "model_card.json";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

    /** Copies the lists and maps so the card is immutable. */
    public ModelCard {
        labels = labels == null ? List.of() : List.copyOf(labels);
        signatures = signatures == null ? Map.of() : Map.copyOf(signatures);
        calibrated = calibrated == null ? Map.of() : Map.copyOf(calibrated);
    }

    /**
     * Reads {@code model_card.json} from a model directory.
     *
     * @param modelDir the exported model directory
     * @return the parsed card (not yet validated against the SavedModel)
     * @throws UncheckedIOException if the file is missing or is not valid JSON for this record
     */
    public static ModelCard read(Path modelDir) {
        Path file = modelDir.resolve(FILE_NAME);
        try {
            return MAPPER.readValue(file.toFile(), ModelCard.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model card " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether the model classifies sentence pairs: each input is a text and a text pair, tokenized as
     * {@code [CLS] text [SEP] text_pair [SEP]}, and {@code embed} / {@code serving_default} take
     * {@link SignatureNames#TOKEN_TYPE_IDS}. False for single-text models and for cards without {@code input}.
     *
     * @return the card's {@code input.text_pair}, false when absent
     */
    public boolean textPair() {
        return input != null && input.textPair();
    }

    /**
     * The card's protected label, checked against its labels, for callers that read the card without
     * loading the model (the demo, the benchmark).
     *
     * @return the protected label, or null when the card names none
     * @throws IllegalArgumentException if the card names a protected label that is not one of its labels
     */
    public String checkedProtectedLabel() {
        if (protectedLabel != null && !labels.contains(protectedLabel)) {
            throw new IllegalArgumentException("model card of " + name + " names protected_label " + protectedLabel
                    + " but its labels are " + labels);
        }
        return protectedLabel;
    }

    /**
     * The recommended exit setting, or ENTROPY with S = 0 (no early exit) when the card has none.
     *
     * @return the setting to apply before any control message arrives
     * @throws IllegalArgumentException if the card names an unknown policy or an invalid threshold, or its
     *     {@code label_thresholds} name a label the card does not have or hold an invalid S
     */
    public ExitSetting recommendedSetting() {
        if (recommendedThreshold == null) {
            return ExitSetting.entropy(0.0);
        }
        if (recommendedThreshold.policy() == null) {
            throw new IllegalArgumentException("recommended_threshold has no policy");
        }
        ExitPolicy policy = ExitPolicy.fromText(recommendedThreshold.policy());
        return setting("recommended_threshold", policy, recommendedThreshold);
    }

    /**
     * The setting {@code calibrate} recorded for a policy: the highest expected saving (DeeBERT eq. 2) whose
     * dev accuracy is within the recorded budget (percentage points) of the full model's.
     *
     * @param policy the policy
     * @return S in nats (ENTROPY, DIVERGENCE) or the patience in layers (PATIENCE), with the entry's per-label
     *     thresholds when it has {@code label_thresholds}
     * @throws IllegalArgumentException if the card has no calibrated setting for the policy, or it names
     *     another policy, an invalid threshold, or per-label thresholds with an unknown label or an invalid S
     */
    public ExitSetting calibratedSetting(ExitPolicy policy) {
        String key = policy.text();
        RecommendedThreshold c = calibrated.get(key);
        if (c == null) {
            throw new IllegalArgumentException("model card of " + name + " has no calibrated " + key + " setting"
                    + (calibrated.isEmpty() ? "" : " (it has: " + String.join(", ", new java.util.TreeSet<>(calibrated.keySet())) + ")")
                    + "; run python -m deebert_export calibrate --model-dir DIR --max-accuracy-loss POINTS --policy "
                    + key + ", or start from exit.setting=recommended");
        }
        if (c.policy() != null && !c.policy().equalsIgnoreCase(key)) {
            throw new IllegalArgumentException("calibrated." + key + " names policy " + c.policy());
        }
        return setting("calibrated." + key, policy, c);
    }

    /**
     * The setting one card entry records, with its per-label thresholds (by name in the card, missing labels
     * getting {@code value}), checked against this model's depth and labels.
     *
     * @throws IllegalArgumentException naming the entry, if the setting breaks a rule of {@link ExitSetting}
     */
    private ExitSetting setting(String where, ExitPolicy policy, RecommendedThreshold entry) {
        try {
            return new ExitSetting(policy, entry.value(), null,
                    ExitSetting.labelThresholdsByIndex(entry.labelThresholds(), entry.value(), labels))
                    .validateFor(numLayers, labels.size());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model card of " + name + ", " + where + ": " + e.getMessage(), e);
        }
    }

    /**
     * One signature's declared tensors.
     *
     * @param inputs  input name -> dtype and shape
     * @param outputs output name -> dtype and shape
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Signature(
            @JsonProperty("inputs") Map<String, TensorSpec> inputs,
            @JsonProperty("outputs") Map<String, TensorSpec> outputs) {
        /** Copies the maps so the signature is immutable. */
        public Signature {
            inputs = inputs == null ? Map.of() : Map.copyOf(inputs);
            outputs = outputs == null ? Map.of() : Map.copyOf(outputs);
        }
    }

    /**
     * A declared tensor.
     *
     * @param dtype TensorFlow dtype name as Python prints it, e.g. {@code int32}, {@code float32}
     * @param shape dimensions, -1 for a dynamic one (batch B, tokens T)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TensorSpec(@JsonProperty("dtype") String dtype, @JsonProperty("shape") List<Long> shape) {
        /** Copies the shape so the spec is immutable. */
        public TensorSpec {
            shape = shape == null ? null : List.copyOf(shape);
        }
    }

    /**
     * What the model reads, the card's {@code input} section.
     *
     * @param textPair true for a sentence-pair model ({@code [CLS] text [SEP] text_pair [SEP]} with token type
     *                 ids); false (or absent) for a single-text model
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Input(@JsonProperty("text_pair") boolean textPair) {
    }

    /**
     * An exit rule recorded in the card: {@code recommended_threshold}, or one entry of {@code calibrated}.
     *
     * @param policy          policy name, {@code entropy}, {@code divergence} or {@code patience}
     * @param value           threshold S in nats, or the patience in layers
     * @param labelThresholds optional {@code label_thresholds}: label name -> S in nats (entropy and divergence
     *                        only), the label-conditional rule of {@link ExitSetting}; labels left out get
     *                        {@code value}. Null when absent
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RecommendedThreshold(@JsonProperty("policy") String policy, @JsonProperty("value") double value,
                                       @JsonProperty("label_thresholds") Map<String, Double> labelThresholds) {
        /** Copies the map so the entry is immutable (a null value is kept for the setting's check to name). */
        public RecommendedThreshold {
            labelThresholds = labelThresholds == null ? null : Collections.unmodifiableMap(
                    new LinkedHashMap<>(labelThresholds));
        }
    }
}
