/**
 * Inference only: DeeBERT's Algorithm 1 (Xin et al. 2020, section 3.2) on a batch, through DJL's TensorFlow
 * engine. {@link org.deebert.streams.classifier.EarlyExitClassifier} is the facade (one
 * {@link org.deebert.streams.classifier.ClassifyRequest} per call); {@link org.deebert.streams.classifier.SignatureRunner}
 * runs the SavedModel's per-layer signatures inside NDArray scopes, {@link org.deebert.streams.classifier.Algorithm1Loop}
 * exits, shrinks and continues (length buckets in lock-step, survivors merged by
 * {@link org.deebert.streams.classifier.GroupMerge}, held in {@link org.deebert.streams.classifier.LiveGroup}s), {@link org.deebert.streams.classifier.ShadowRecorder} keeps shadow rows, and
 * {@link org.deebert.streams.classifier.OffRampProbe} gives every off-ramp's logits for parity checks. No Kafka.
 * The exit decision itself is {@code exit}'s; the model card is {@code model}'s.
 */
package org.deebert.streams.classifier;
