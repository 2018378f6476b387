/**
 * The exit maths, defined once on the Java side: the exit policies
 * ({@link org.deebert.streams.exit.ExitPolicy}), the setting in force ({@link org.deebert.streams.exit.ExitSetting}:
 * a policy with one S, or per-layer or per-label thresholds), the per-input scores and exit test of DeeBERT's
 * Algorithm 1 ({@link org.deebert.streams.exit.ExitScores}), the exit step that picks a policy's score and
 * decides whether an input leaves ({@link org.deebert.streams.exit.ExitRule}, over the scores an off-ramp offers,
 * {@link org.deebert.streams.exit.OffRampScores}), DeeBERT's expected saving of a set of exit layers
 * ({@link org.deebert.streams.exit.ExpectedSaving}) and what a shadow row records at every layer
 * ({@link org.deebert.streams.exit.ShadowTrace}). Plain Java with no model, Kafka or DJL, checked against the
 * golden file Python's {@code deebert_export/exits.py} writes. Depends on no other package of the service; the
 * classifier, the budget controller and the model card build on it.
 */
package org.deebert.streams.exit;
