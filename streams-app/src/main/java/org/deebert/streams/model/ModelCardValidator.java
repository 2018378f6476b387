package org.deebert.streams.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks a {@link ModelCard} against the model directory it came with: the SavedModel's signatures
 * (names, input/output names, dtypes, shapes), the layer count, the label count and the tokenizer
 * file, plus the tensor names the export format requires ({@code model-export/docs/export-format.md}):
 * {@code embed} and {@code serving_default} take {@code token_type_ids} exactly when the card says
 * {@code input.text_pair}.
 */
public final class ModelCardValidator {

    private static final Set<String> TOKEN_INPUTS = Set.of(SignatureNames.INPUT_IDS, SignatureNames.ATTENTION_MASK);
    /** {@code embed} and {@code serving_default} of a sentence-pair model also take token type ids. */
    private static final Set<String> PAIR_TOKEN_INPUTS = Set.of(SignatureNames.INPUT_IDS, SignatureNames.ATTENTION_MASK,
            SignatureNames.TOKEN_TYPE_IDS);
    private static final Set<String> LAYER_INPUTS = Set.of(SignatureNames.HIDDEN, SignatureNames.ATTENTION_MASK);
    private static final Set<String> LAYER_OUTPUTS = Set.of(SignatureNames.HIDDEN_OUT, SignatureNames.LOGITS,
            SignatureNames.PROBS, SignatureNames.ENTROPY);

    private ModelCardValidator() {
    }

    /**
     * Checks the card's own fields and the files it names, before anything is loaded.
     *
     * @param card     the parsed card
     * @param modelDir the model directory the card was read from
     * @throws ModelCardMismatchException naming every problem found
     */
    public static void validateFiles(ModelCard card, Path modelDir) {
        List<String> problems = new ArrayList<>();
        if (card.formatVersion() != ModelCard.FORMAT_VERSION) {
            problems.add("model card has format_version " + card.formatVersion() + " but this runtime reads "
                    + ModelCard.FORMAT_VERSION);
        }
        if (card.labels().size() < 2) {
            problems.add("model card lists " + card.labels().size() + " labels, at least 2 are needed");
        }
        if (card.numLayers() < 1) {
            problems.add("model card says num_layers " + card.numLayers() + ", at least 1 is needed");
        }
        if (card.maxSeqLength() < 2) {
            problems.add("model card says max_seq_length " + card.maxSeqLength() + ", at least 2 ([CLS], [SEP])");
        }
        if (card.tokenizer() == null || !Files.isRegularFile(modelDir.resolve(card.tokenizer()))) {
            problems.add("model card names tokenizer " + card.tokenizer() + " but no such file is in " + modelDir);
        }
        if (card.savedModel() == null || !Files.isRegularFile(modelDir.resolve(card.savedModel()).resolve("saved_model.pb"))) {
            problems.add("model card names saved_model " + card.savedModel() + " but it holds no saved_model.pb in "
                    + modelDir);
        }
        try {
            card.recommendedSetting();
        } catch (IllegalArgumentException e) {
            problems.add("model card's recommended_threshold is unusable: " + e.getMessage());
        }
        try {
            card.checkedProtectedLabel();
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        throwIfAny(problems);
    }

    /**
     * Checks the card's signatures against the loaded SavedModel's.
     *
     * @param card  the parsed card
     * @param saved the SavedModel's signatures in the card's vocabulary (the classifier reads them with
     *              {@code SavedModelSignatures.from})
     * @throws ModelCardMismatchException naming every mismatch found, e.g. "model card says layer_3
     *                                    output logits has shape [-1, 2] but the SavedModel has [-1, 3]"
     */
    public static void validateSignatures(ModelCard card, Map<String, ModelCard.Signature> saved) {
        List<String> problems = new ArrayList<>();
        checkRequiredSignatures(card, problems);
        long savedLayers = saved.keySet().stream().filter(SignatureNames::isLayer).count();
        if (savedLayers != card.numLayers()) {
            problems.add("model card says num_layers " + card.numLayers() + " but the SavedModel has " + savedLayers
                    + " layer_i signatures");
        }
        for (Map.Entry<String, ModelCard.Signature> e : new TreeMap<>(card.signatures()).entrySet()) {
            String name = e.getKey();
            ModelCard.Signature actual = saved.get(name);
            if (actual == null) {
                problems.add("model card names signature " + name + " but the SavedModel has none (it has "
                        + new TreeSet<>(saved.keySet()) + ")");
                continue;
            }
            compareTensors(name, "input", e.getValue().inputs(), actual.inputs(), problems);
            compareTensors(name, "output", e.getValue().outputs(), actual.outputs(), problems);
        }
        checkLabelCount(card, saved, problems);
        checkHiddenSize(card, saved, problems);
        throwIfAny(problems);
    }

    private static void checkHiddenSize(ModelCard card, Map<String, ModelCard.Signature> saved, List<String> problems) {
        ModelCard.Signature embed = saved.get(SignatureNames.EMBED);
        ModelCard.TensorSpec hidden = embed == null ? null : embed.outputs().get(SignatureNames.HIDDEN);
        if (hidden == null || hidden.shape() == null || hidden.shape().isEmpty()) {
            return;
        }
        long size = hidden.shape().get(hidden.shape().size() - 1);
        if (size != card.hiddenSize()) {
            problems.add("model card says hidden_size " + card.hiddenSize() + " but the SavedModel's embed output hidden"
                    + " has shape " + hidden.shape());
        }
    }

    private static void checkRequiredSignatures(ModelCard card, List<String> problems) {
        Map<String, ModelCard.Signature> sigs = card.signatures();
        long cardLayers = sigs.keySet().stream().filter(SignatureNames::isLayer).count();
        if (cardLayers != card.numLayers()) {
            problems.add("model card says num_layers " + card.numLayers() + " but lists " + cardLayers
                    + " layer_i signatures");
        }
        Set<String> tokenInputs = card.textPair() ? PAIR_TOKEN_INPUTS : TOKEN_INPUTS;
        requireNames(SignatureNames.EMBED, sigs.get(SignatureNames.EMBED), tokenInputs,
                Set.of(SignatureNames.HIDDEN), problems, card.textPair());
        requireNames(SignatureNames.SERVING_DEFAULT, sigs.get(SignatureNames.SERVING_DEFAULT), tokenInputs,
                Set.of(SignatureNames.ALL_LOGITS), problems, card.textPair());
        for (int i = 1; i <= card.numLayers(); i++) {
            String name = SignatureNames.layer(i);
            requireNames(name, sigs.get(name), LAYER_INPUTS, LAYER_OUTPUTS, problems, card.textPair());
        }
    }

    private static void requireNames(String signature, ModelCard.Signature sig, Set<String> inputs,
            Set<String> outputs, List<String> problems, boolean textPair) {
        if (sig == null) {
            problems.add("model card lacks signature " + signature + " required by the export format");
            return;
        }
        if (!sig.inputs().keySet().equals(inputs)) {
            problems.add("model card says " + signature + " has inputs " + new TreeSet<>(sig.inputs().keySet())
                    + " but the export format requires " + new TreeSet<>(inputs) + " for a "
                    + (textPair ? "sentence-pair" : "single-text") + " model (input.text_pair " + textPair + ")");
        }
        if (!sig.outputs().keySet().containsAll(outputs)) {
            problems.add("model card says " + signature + " has outputs " + new TreeSet<>(sig.outputs().keySet())
                    + " but the export format requires " + new TreeSet<>(outputs));
        }
    }

    private static void compareTensors(String signature, String kind, Map<String, ModelCard.TensorSpec> declared,
            Map<String, ModelCard.TensorSpec> actual, List<String> problems) {
        if (!declared.keySet().equals(actual.keySet())) {
            problems.add("model card says " + signature + " has " + kind + "s " + new TreeSet<>(declared.keySet())
                    + " but the SavedModel has " + new TreeSet<>(actual.keySet()));
        }
        for (String tensor : new TreeSet<>(declared.keySet())) {
            ModelCard.TensorSpec want = declared.get(tensor);
            ModelCard.TensorSpec got = actual.get(tensor);
            if (got == null) {
                continue;
            }
            if (!Objects.equals(want.dtype(), got.dtype())) {
                problems.add("model card says " + signature + " " + kind + " " + tensor + " has dtype " + want.dtype()
                        + " but the SavedModel has " + got.dtype());
            }
            if (!Objects.equals(want.shape(), got.shape())) {
                problems.add("model card says " + signature + " " + kind + " " + tensor + " has shape " + want.shape()
                        + " but the SavedModel has " + got.shape());
            }
        }
    }

    private static void checkLabelCount(ModelCard card, Map<String, ModelCard.Signature> saved, List<String> problems) {
        int labels = card.labels().size();
        for (int i = 1; i <= card.numLayers(); i++) {
            String name = SignatureNames.layer(i);
            ModelCard.Signature sig = saved.get(name);
            ModelCard.TensorSpec logits = sig == null ? null : sig.outputs().get(SignatureNames.LOGITS);
            if (logits == null || logits.shape() == null || logits.shape().isEmpty()) {
                continue;
            }
            long classes = logits.shape().get(logits.shape().size() - 1);
            if (classes != labels) {
                problems.add("model card lists " + labels + " labels but the SavedModel's " + name
                        + " output logits has shape " + logits.shape());
            }
        }
    }

    private static void throwIfAny(List<String> problems) {
        if (!problems.isEmpty()) {
            throw new ModelCardMismatchException(String.join("; ", problems));
        }
    }
}
