/**
 * The accuracy budget: the operator's limits ({@link org.deebert.streams.budget.Budget}, with an optional label
 * guard), the Wilson confidence bounds the decision is judged by
 * ({@link org.deebert.streams.budget.ConfidenceBounds}) and the controller's decision as a pure function over a
 * window of shadow samples ({@link org.deebert.streams.budget.ThresholdChooser}, giving a
 * {@link org.deebert.streams.budget.ThresholdDecision}). The chooser's parts: the window's disagreement count as a
 * step function of S ({@code DisagreementSweep}), the protected label's share of the window
 * ({@code LabelGuardWindow}), the search over candidate S ({@code ThresholdSearch}) and the words of the audit
 * line ({@code DecisionWords}). No Kafka, no clock, no state: the topology's budget controller owns the window and
 * the schedule. Uses only {@code org.deebert.streams.exit}.
 */
package org.deebert.streams.budget;
