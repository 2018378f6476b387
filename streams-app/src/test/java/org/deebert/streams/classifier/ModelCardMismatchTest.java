package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.ModelCardMismatchException;
import org.deebert.streams.model.SignatureNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** A model card that disagrees with its SavedModel or files is rejected, naming the mismatch. */
class ModelCardMismatchTest {

    private static final ClassifierOptions CPU = new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, 8);

    @TempDir
    Path temp;

    @Test
    void unchangedCardLoads() {
        try (EarlyExitClassifier classifier = EarlyExitClassifier.load(TinyModel.copyTo(temp), CPU)) {
            assertThat(classifier.numLayers()).isEqualTo(classifier.modelCard().numLayers());
        }
    }

    @Test
    void rejectsWrongLogitsShapeNamingSignatureAndBothShapes() throws IOException {
        Path dir = copyWithEditedCard(card -> {
            ArrayNode shape = (ArrayNode) card.at("/signatures/layer_1/outputs/logits/shape");
            shape.set(1, shape.get(1).asLong() + 1);
        });
        int classes = ModelCard.read(TinyModel.dir()).labels().size();
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("model card says layer_1 output logits has shape [-1, " + (classes + 1)
                        + "] but the SavedModel has [-1, " + classes + "]");
    }

    @Test
    void rejectsWrongDtype() throws IOException {
        Path dir = copyWithEditedCard(card ->
                ((ObjectNode) card.at("/signatures/embed/inputs/input_ids")).put("dtype", "int64"));
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("model card says embed input input_ids has dtype int64 but the SavedModel has int32");
    }

    @Test
    void rejectsRenamedOutput() throws IOException {
        Path dir = copyWithEditedCard(card -> {
            ObjectNode outputs = (ObjectNode) card.at("/signatures/layer_1/outputs");
            outputs.set("entropy_nats", outputs.remove("entropy"));
        });
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("layer_1 has outputs [entropy_nats, hidden_out, logits, probs] but the SavedModel"
                        + " has [entropy, hidden_out, logits, probs]");
    }

    @Test
    void rejectsLayerCountThatDisagreesWithTheSavedModel() throws IOException {
        int layers = ModelCard.read(TinyModel.dir()).numLayers();
        Path dir = copyWithEditedCard(card -> {
            ObjectNode signatures = (ObjectNode) card.get("signatures");
            signatures.set("layer_" + (layers + 1), signatures.get("layer_" + layers).deepCopy());
            ((ObjectNode) card).put("num_layers", layers + 1);
        });
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("model card says num_layers " + (layers + 1) + " but the SavedModel has " + layers
                        + " layer_i signatures")
                .hasMessageContaining("model card names signature layer_" + (layers + 1) + " but the SavedModel has none");
    }

    @Test
    void rejectsLabelCountThatDisagreesWithLogits() throws IOException {
        Path dir = copyWithEditedCard(card -> ((ArrayNode) card.get("labels")).add("extra"));
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("labels but the SavedModel's layer_1 output logits has shape");
    }

    @Test
    void rejectsUnknownRecommendedPolicy() throws IOException {
        Path dir = copyWithEditedCard(card -> ((ObjectNode) card).putObject("recommended_threshold")
                .put("policy", "patience").put("value", 0.1));
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("recommended_threshold is unusable");
    }

    @Test
    void rejectsAPairCardOnASingleTextSavedModelNamingTheMissingTokenTypeIds() throws IOException {
        // A card that claims pairs, with its signatures edited to match, still disagrees with the SavedModel.
        Path dir = copyWithEditedCard(card -> {
            ((ObjectNode) card).putObject("input").put("text_pair", true);
            for (String sig : new String[] {SignatureNames.EMBED, SignatureNames.SERVING_DEFAULT}) {
                ObjectNode inputs = (ObjectNode) card.at("/signatures/" + sig + "/inputs");
                inputs.set(SignatureNames.TOKEN_TYPE_IDS, inputs.get(SignatureNames.INPUT_IDS).deepCopy());
            }
        });
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("model card says embed has inputs [attention_mask, input_ids, token_type_ids] but"
                        + " the SavedModel has [attention_mask, input_ids]");
    }

    @Test
    void rejectsAPairCardWhoseSignaturesLackTokenTypeIds() throws IOException {
        Path dir = copyWithEditedCard(card -> ((ObjectNode) card).putObject("input").put("text_pair", true));
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("model card says embed has inputs [attention_mask, input_ids] but the export format"
                        + " requires [attention_mask, input_ids, token_type_ids] for a sentence-pair model (input.text_pair true)");
    }

    @Test
    void aCardWithoutInputIsASingleTextModel() {
        // The committed default model and the tiny model predate sentence pairs: no "input" in their cards.
        assertThat(ModelCard.read(TinyModel.dir()).textPair()).isFalse();
        assertThat(ModelCard.read(Path.of("..", "model-export", "models", "deebert-spamassassin-minilm-l6")).textPair())
                .isFalse();
    }

    @Test
    void readsTheProtectedLabelOfTheDefaultModelAndNoneFromACardWithoutIt() {
        ModelCard defaultCard = ModelCard.read(Path.of("..", "model-export", "models", "deebert-spamassassin-minilm-l6"));
        assertThat(defaultCard.protectedLabel()).isEqualTo("spam");
        assertThat(defaultCard.checkedProtectedLabel()).isEqualTo("spam");
        // The tiny model's card predates protected_label.
        ModelCard tiny = ModelCard.read(TinyModel.dir());
        assertThat(tiny.protectedLabel()).isNull();
        assertThat(tiny.checkedProtectedLabel()).isNull();
    }

    @Test
    void loadsACardWhoseProtectedLabelIsOneOfItsLabels() throws IOException {
        Path dir = copyWithEditedCard(card -> ((ObjectNode) card).put("protected_label", "spam"));
        try (EarlyExitClassifier classifier = EarlyExitClassifier.load(dir, CPU)) {
            assertThat(classifier.modelCard().protectedLabel()).isEqualTo("spam");
        }
    }

    @Test
    void rejectsAProtectedLabelThatIsNotOneOfTheLabelsNamingIt() throws IOException {
        Path dir = copyWithEditedCard(card -> ((ObjectNode) card).put("protected_label", "phishing"));
        assertThatThrownBy(() -> ModelCard.read(dir).checkedProtectedLabel())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("names protected_label phishing but its labels are [ham, spam]");
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("names protected_label phishing but its labels are [ham, spam]");
    }

    @Test
    void rejectsMissingTokenizerFile() throws IOException {
        Path dir = copyWithEditedCard(card -> { });
        Files.delete(dir.resolve(ModelCard.read(dir).tokenizer()));
        assertThatThrownBy(() -> EarlyExitClassifier.load(dir, CPU))
                .isInstanceOf(ModelCardMismatchException.class)
                .hasMessageContaining("model card names tokenizer tokenizer.json but no such file");
    }

    private Path copyWithEditedCard(Consumer<JsonNode> edit) throws IOException {
        Path dir = TinyModel.copyTo(temp.resolve("model"));
        Path cardFile = dir.resolve(ModelCard.FILE_NAME);
        JsonNode card = TinyModel.JSON.readTree(cardFile.toFile());
        edit.accept(card);
        TinyModel.JSON.writeValue(cardFile.toFile(), card);
        return dir;
    }
}
