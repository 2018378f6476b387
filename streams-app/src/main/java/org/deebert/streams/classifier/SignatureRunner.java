package org.deebert.streams.classifier;

import ai.djl.Device;
import ai.djl.MalformedModelException;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.SignatureNames;

/**
 * Calls the exported SavedModel's signatures ({@code model-export/docs/export-format.md}): {@code embed},
 * {@code layer_1..layer_n} and {@code serving_default}, on NDArrays the caller creates in a scope of its own
 * ({@link #newScope()}). Owns the loaded model; closing it frees the TF session and with it every signature block.
 * Not thread-safe: {@link EarlyExitClassifier} serializes its calls.
 */
final class SignatureRunner implements AutoCloseable {

    /**
     * Input arrays always live in host memory: DJL feeds signatures through TF_SessionRun, which takes
     * host tensors (a GPU array would be copied back first), and the session itself places the graph
     * on the GPU when it has one.
     */
    private static final Device HOST = Device.cpu();

    private final ZooModel<NDList, NDList> model;
    private final TfSymbolBlock serving;
    private final TfSymbolBlock embed;
    private final TfSymbolBlock[] layers;
    private final ParameterStore parameterStore;

    /**
     * @param model     the loaded SavedModel, whose main block is {@code serving_default}
     * @param numLayers n; signatures {@code layer_1..layer_n} must exist (checked against the model card first)
     */
    SignatureRunner(ZooModel<NDList, NDList> model, int numLayers) {
        this.model = model;
        this.serving = (TfSymbolBlock) model.getBlock();
        SavedModelBundle bundle = serving.getSavedModelBundle();
        // Extra blocks share the bundle and are never closed: closing one would close the bundle.
        this.embed = new TfSymbolBlock(bundle, SignatureNames.EMBED);
        this.layers = new TfSymbolBlock[numLayers];
        for (int i = 1; i <= layers.length; i++) {
            layers[i - 1] = new TfSymbolBlock(bundle, SignatureNames.layer(i));
        }
        this.parameterStore = new ParameterStore(model.getNDManager(), false);
    }

    /**
     * Loads the SavedModel once: tag from the card, {@code serving_default} as the main block (the layer
     * signatures share its bundle), the session configured from {@code options}.
     *
     * @param modelDir the exported model directory
     * @param card     its model card
     * @param options  device preference, threads and precision
     * @return the loaded model; the caller closes it
     * @throws UncheckedIOException  if the SavedModel cannot be read
     * @throws IllegalStateException if TF fails to load it
     */
    static ZooModel<NDList, NDList> loadModel(Path modelDir, ModelCard card, ClassifierOptions options) {
        Criteria.Builder<NDList, NDList> builder = Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optModelPath(modelDir.resolve(card.savedModel()))
                .optEngine("TensorFlow")
                .optOption("Tags", card.tag())
                // serving_default is the main block; layer signatures share its bundle.
                .optOption("SignatureDefKey", SignatureNames.SERVING_DEFAULT);
        builder.optOption("ConfigProto", SessionConfigs.criteriaOption(options));
        try {
            return builder.build().loadModel();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load SavedModel from " + modelDir, e);
        } catch (ModelNotFoundException | MalformedModelException e) {
            throw new IllegalStateException("cannot load SavedModel from " + modelDir + ": " + e.getMessage(), e);
        }
    }

    /** @return n, the number of layer signatures */
    int numLayers() {
        return layers.length;
    }

    /**
     * @return a host sub-manager of the model's manager; every array of one chunk lives in it and is freed when it
     *     is closed (signature outputs attach to the manager of their first input, attention_mask)
     */
    NDManager newScope() {
        return model.getNDManager().newSubManager(HOST);
    }

    /** @return the chunk's attention_mask, int32 (B,T), in {@code scope} */
    static NDArray mask(NDManager scope, BatchTokenizer.TokenizedBatch batch) {
        return scope.create(batch.mask(), new Shape(batch.rows(), batch.seqLen()));
    }

    /**
     * Runs {@code embed}. The token inputs it creates (input_ids, and token_type_ids for pairs) are closed
     * once it returns; {@code mask} stays open for the layers.
     *
     * @return {@code hidden}, float32 (B,T,H)
     */
    NDArray embed(NDManager scope, BatchTokenizer.TokenizedBatch batch, NDArray mask) {
        Map<String, NDArray> inputs = tokenInputs(scope, batch, mask);
        NDArray hidden = call(embed, inputs).get(SignatureNames.HIDDEN);
        for (NDArray input : inputs.values()) {
            if (input != mask) {
                input.close();
            }
        }
        return hidden;
    }

    /**
     * Runs {@code layer_<layer>} on the live rows.
     *
     * @param layer  1-based layer
     * @param hidden float32 (B',T,H)
     * @param mask   int32 (B',T)
     * @return {@code hidden_out} (B',T,H), {@code probs} (B',C) and {@code entropy} (B') in nats, among others
     */
    NDList layer(int layer, NDArray hidden, NDArray mask) {
        return call(layers[layer - 1], Map.of(SignatureNames.HIDDEN, hidden, SignatureNames.ATTENTION_MASK, mask));
    }

    /**
     * Runs {@code serving_default}: every off-ramp without early exit.
     *
     * @return its outputs; {@code all_logits} is float32 (B,n,C)
     */
    NDList allOffRamps(NDManager scope, BatchTokenizer.TokenizedBatch batch, NDArray mask) {
        return call(serving, tokenInputs(scope, batch, mask));
    }

    /**
     * The token inputs of {@code embed} / {@code serving_default}: input_ids and the given attention_mask, plus
     * token_type_ids for sentence pairs; every int32 (B,T), created in {@code scope}.
     */
    private static Map<String, NDArray> tokenInputs(NDManager scope, BatchTokenizer.TokenizedBatch batch, NDArray mask) {
        Shape tokenShape = new Shape(batch.rows(), batch.seqLen());
        NDArray ids = scope.create(batch.inputIds(), tokenShape);
        if (batch.tokenTypeIds() == null) {
            return Map.of(SignatureNames.ATTENTION_MASK, mask, SignatureNames.INPUT_IDS, ids);
        }
        return Map.of(SignatureNames.ATTENTION_MASK, mask, SignatureNames.INPUT_IDS, ids,
                SignatureNames.TOKEN_TYPE_IDS, scope.create(batch.tokenTypeIds(), tokenShape));
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

    /** Frees the TF session (and with it every signature block). */
    @Override
    public void close() {
        model.close();
    }
}
