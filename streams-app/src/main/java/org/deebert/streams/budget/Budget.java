package org.deebert.streams.budget;

import java.util.List;

import org.deebert.streams.exit.ExitSetting;

/**
 * An accuracy budget for the exit threshold S, as an operator sets it on the control topic
 * ({@code ThresholdControl.budget}): the budget controller keeps S at the largest value in
 * [{@code minThreshold}, {@code maxThreshold}] whose disagreement with the full model (the share of
 * early-exit answers that differ from the last off-ramp's) has an upper confidence bound within
 * {@code maxDisagreement}, judged on a sampled shadow. The rules of a budget are defined here, once: the
 * control-topic validator and the CLI both go through this constructor.
 *
 * <p>Why a budget rather than a fixed S: a threshold grid-searched once drifts with the traffic (Apparate,
 * Dai et al., SOSP 2024, measured up to 17.8 % accuracy loss on NLP workloads), and operators think in
 * "at most 0.5 % of answers may differ", not in nats.
 *
 * <p>A budget may also carry a {@link LabelGuard} on one label (e.g. spam): then the controller also bounds the
 * share of that label's full-model answers that early exit answers otherwise (the label's recall loss against the
 * full model), judged on the same window at the same confidence. A disagreement budget alone spreads its
 * allowance over all labels, so early exit may spend most of it on the one label that matters most.
 *
 * @param maxDisagreement largest allowed disagreement with the full model, a share in (0, 1)
 * @param sampleRate      share of events run through every layer as shadow samples, in (0, 1]
 * @param minThreshold    lowest S the controller may choose, nats, finite and {@code >= 0}; the S in force
 *                        when the budget is first set
 * @param maxThreshold    highest S the controller may choose, nats, finite and {@code >= minThreshold}
 * @param windowEvents    the controller's window holds at most this many most recent samples, {@code >= 10}
 * @param windowMs        ... and only samples younger than this, ms, {@code >= 1000}
 * @param confidence      one-sided confidence of the upper bound on the disagreement (and on the guard's recall
 *                        loss), in [0.5, 1)
 * @param guard           an optional second bound on one label's recall loss, or null
 */
public record Budget(double maxDisagreement, double sampleRate, double minThreshold, double maxThreshold,
                     int windowEvents, long windowMs, double confidence, LabelGuard guard) {

    /** Default window size in samples ({@code ThresholdControl.budget.window_events}'s Avro default). */
    public static final int DEFAULT_WINDOW_EVENTS = 1000;
    /** Default window age in ms: 10 minutes ({@code window_ms}'s Avro default). */
    public static final long DEFAULT_WINDOW_MS = 600_000;
    /** Default one-sided confidence of the upper bound ({@code confidence}'s Avro default). */
    public static final double DEFAULT_CONFIDENCE = 0.95;

    /**
     * A guard on one label's recall against the full model: "at most 1 % of the spam the full model catches may
     * be let through by early exit". Among the window's shadow samples whose full-model (last off-ramp) answer is
     * {@code label}, the share that the exit at a candidate S answers otherwise has a Wilson upper bound at the
     * budget's confidence; S is allowed only where that bound is at most {@code maxRecallLoss}.
     *
     * <p>Only the name is checked here; whether it is one of the model's labels is checked where the model card is
     * known ({@link Budget#checkLabels}).
     *
     * @param label         the protected label's name, as in the model card's {@code labels}; not blank
     * @param maxRecallLoss largest allowed share of that label's full-model answers that early exit may answer
     *                      otherwise, in (0, 1): 0.01 = 1 %
     */
    public record LabelGuard(String label, double maxRecallLoss) {

        /** @throws IllegalArgumentException if the label is null or blank, or the share is not in (0, 1) */
        public LabelGuard {
            if (label == null || label.isBlank()) {
                throw new IllegalArgumentException("the protected label must be a label name, got '" + label + "'");
            }
            if (!(maxRecallLoss > 0 && maxRecallLoss < 1)) {
                throw new IllegalArgumentException("max recall loss must be a share in (0, 1), got " + maxRecallLoss);
            }
        }

        /**
         * The guard as it arrives in two optional fields (Avro {@code protected_label} and {@code max_recall_loss},
         * the CLI's {@code --protect} and {@code --max-recall-loss}): both or neither.
         *
         * @param label         the protected label, or null
         * @param maxRecallLoss its largest recall loss (a share), or null
         * @return the guard, or null when both are null
         * @throws IllegalArgumentException if only one is given, or either breaks its rule
         */
        public static LabelGuard of(String label, Double maxRecallLoss) {
            if (label == null && maxRecallLoss == null) {
                return null;
            }
            if (label == null || maxRecallLoss == null) {
                throw new IllegalArgumentException("a label guard needs both a protected label and a max recall loss, got "
                        + (label == null ? "only max recall loss " + maxRecallLoss : "only protected label '" + label + "'"));
            }
            return new LabelGuard(label, maxRecallLoss);
        }
    }

    /**
     * @throws IllegalArgumentException naming the field that breaks its rule (see the parameters)
     */
    public Budget {
        if (!(maxDisagreement > 0 && maxDisagreement < 1)) {
            throw new IllegalArgumentException("max disagreement must be a share in (0, 1), got " + maxDisagreement);
        }
        if (!(sampleRate > 0 && sampleRate <= 1)) {
            throw new IllegalArgumentException("sample rate must be in (0, 1], got " + sampleRate);
        }
        if (!Double.isFinite(minThreshold) || minThreshold < 0) {
            throw new IllegalArgumentException("min threshold must be a finite S >= 0 (nats), got " + minThreshold);
        }
        if (!Double.isFinite(maxThreshold) || maxThreshold < minThreshold) {
            throw new IllegalArgumentException("max threshold must be a finite S >= min threshold " + minThreshold
                    + " (nats), got " + maxThreshold);
        }
        if (windowEvents < 10) {
            throw new IllegalArgumentException("window must hold at least 10 samples, got " + windowEvents);
        }
        if (windowMs < 1000) {
            throw new IllegalArgumentException("window must span at least 1000 ms, got " + windowMs);
        }
        if (!(confidence >= 0.5 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be in [0.5, 1), got " + confidence);
        }
    }

    /** A budget without a label guard. */
    public Budget(double maxDisagreement, double sampleRate, double minThreshold, double maxThreshold,
                  int windowEvents, long windowMs, double confidence) {
        this(maxDisagreement, sampleRate, minThreshold, maxThreshold, windowEvents, windowMs, confidence, null);
    }

    /** A budget with the default window (1000 samples, 10 minutes) and 95 % confidence, without a label guard. */
    public Budget(double maxDisagreement, double sampleRate, double minThreshold, double maxThreshold) {
        this(maxDisagreement, sampleRate, minThreshold, maxThreshold, DEFAULT_WINDOW_EVENTS, DEFAULT_WINDOW_MS,
                DEFAULT_CONFIDENCE, null);
    }

    /**
     * @param newGuard the guard, or null for none
     * @return this budget with that guard
     */
    public Budget withGuard(LabelGuard newGuard) {
        return new Budget(maxDisagreement, sampleRate, minThreshold, maxThreshold, windowEvents, windowMs,
                confidence, newGuard);
    }

    /**
     * Checks the guard's label against the model's labels (from its model card).
     *
     * @param labels the model's label names in logit order; empty when unknown (a CLI without a readable model
     *               card): then the check is left to the service
     * @return this budget
     * @throws IllegalArgumentException if the guard names a label the model does not have, naming the labels
     */
    public Budget checkLabels(List<String> labels) {
        if (guard != null && labels != null && !labels.isEmpty() && !labels.contains(guard.label())) {
            throw new IllegalArgumentException("protected label '" + guard.label() + "' is not one of the model's labels "
                    + labels);
        }
        return this;
    }

    /**
     * @param labels the model's label names in logit order
     * @return the index of the guard's label (the label index shadow samples carry), or -1 without a guard
     * @throws IllegalArgumentException if the guard's label is not among {@code labels}
     */
    public int protectedLabelIndex(List<String> labels) {
        if (guard == null) {
            return -1;
        }
        int index = labels.indexOf(guard.label());
        if (index < 0) {
            throw new IllegalArgumentException("protected label '" + guard.label() + "' is not one of the model's labels "
                    + labels);
        }
        return index;
    }

    /**
     * Checks that a budget may drive this exit setting: ENTROPY or DIVERGENCE with one S for every layer and
     * every label, and that S within [min, max].
     *
     * @param setting the setting the budget's message carries
     * @return the setting
     * @throws IllegalArgumentException saying which rule the pair breaks
     */
    public ExitSetting check(ExitSetting setting) {
        if (!setting.policy().comparesScoreInNats()) {
            throw new IllegalArgumentException("an accuracy budget drives S of ENTROPY or DIVERGENCE, not " + setting.policy());
        }
        if (setting.layerThresholds() != null) {
            throw new IllegalArgumentException("an accuracy budget drives one S for every layer; per-layer thresholds are not allowed");
        }
        if (setting.labelThresholds() != null) {
            // The controller replays one S on the shadow window; it has no rule for moving several S at once.
            throw new IllegalArgumentException("an accuracy budget drives one S for every label; per-label thresholds are not allowed");
        }
        if (setting.threshold() < minThreshold || setting.threshold() > maxThreshold) {
            throw new IllegalArgumentException("threshold S " + setting.threshold() + " is outside the budget's range ["
                    + minThreshold + ", " + maxThreshold + "]");
        }
        return setting;
    }

    /**
     * Whether an event is a shadow sample: decided from a hash of its id, so the same event is sampled (or not)
     * on every instance and on every replay after a crash, and a batch retried under exactly-once runs the same rows.
     *
     * @param eventId the event's id (TextEvent.id)
     * @return true for about {@code sampleRate} of ids
     */
    public boolean samples(String eventId) {
        if (sampleRate >= 1) {
            return true;
        }
        // 64-bit FNV-1a, then the top 53 bits as a uniform double in [0, 1): String.hashCode alone is too
        // regular for ids that differ in their last characters.
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < eventId.length(); i++) {
            h ^= eventId.charAt(i);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (h >>> 11) * 0x1.0p-53 < sampleRate;
    }
}
