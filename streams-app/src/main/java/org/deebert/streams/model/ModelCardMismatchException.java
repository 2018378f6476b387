package org.deebert.streams.model;

/**
 * Thrown when a model directory's {@code model_card.json} disagrees with the files next to it (the
 * SavedModel's signatures, the tokenizer file) or with the export format. The message names the
 * mismatch, e.g. "model card says layer_3 output logits has shape [-1, 2] but the SavedModel has
 * [-1, 3]". Loading a model never succeeds with a mismatching card.
 */
public class ModelCardMismatchException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what disagrees, naming the signature, tensor and both values
     */
    public ModelCardMismatchException(String message) {
        super(message);
    }
}
