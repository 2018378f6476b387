/**
 * The exported model's card: {@code model_card.json} parsed ({@link org.deebert.streams.model.ModelCard}), the
 * signature and tensor names the export format fixes ({@link org.deebert.streams.model.SignatureNames}), the
 * checks of a card against its SavedModel and files ({@link org.deebert.streams.model.ModelCardValidator},
 * failing with {@link org.deebert.streams.model.ModelCardMismatchException}) and the exit setting a card
 * starts with ({@link org.deebert.streams.model.StartingSetting}). No DJL or TensorFlow: the classifier reads
 * the SavedModel and hands its signatures here. Uses only {@code org.deebert.streams.exit}.
 */
package org.deebert.streams.model;
