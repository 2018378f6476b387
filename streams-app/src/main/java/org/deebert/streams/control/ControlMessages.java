package org.deebert.streams.control;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.schema.AccuracyBudget;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ThresholdControl;

/**
 * The control topic's message ({@link ThresholdControl}) and the Java types it carries, mapped in one place:
 * building a message (a fixed setting or an accuracy budget), the exit policy between the Avro enum
 * {@link ExitPolicyName} and {@link ExitPolicy} (by constant name: the Avro symbols are the Java constants'
 * names), and the budget between the Avro {@link AccuracyBudget} and {@link Budget}. Messages built here are not
 * validated: {@link ControlMessageValidator} applies the service's rules.
 */
public final class ControlMessages {

    /**
     * {@code changed_by} of the accuracy-budget controller's messages; every other author is an operator (or the
     * operator's tooling). Defined here, not in the topology, so the CLI's reports can tell the two apart.
     */
    public static final String CONTROLLER_AUTHOR = "controller";

    private ControlMessages() {
    }

    /**
     * A message that fixes the exit setting (no budget).
     *
     * @param model           the model name (the record key and {@code model_name})
     * @param policy          the exit policy
     * @param threshold       S in nats (ENTROPY, DIVERGENCE) or the patience in layers (PATIENCE)
     * @param layerThresholds S_1..S_n in nats, or null for {@code threshold} at every layer
     * @param labelThresholds label name -> S in nats, or null for {@code threshold} for every label; copied
     * @param by              who makes the change (audit trail)
     * @param reason          why (audit trail)
     * @param at              when
     * @return the message
     */
    public static ThresholdControl fixedSetting(String model, ExitPolicy policy, double threshold,
                                                List<Double> layerThresholds, Map<String, Double> labelThresholds,
                                                String by, String reason, Instant at) {
        return ThresholdControl.newBuilder()
                .setThreshold(threshold).setPolicy(toAvro(policy)).setLayerThresholds(layerThresholds)
                .setLabelThresholds(labelThresholds == null ? null : new LinkedHashMap<>(labelThresholds))
                .setModelName(model).setChangedBy(by).setReason(reason).setChangedAt(at).build();
    }

    /**
     * A budget's message, for the CLI's {@code set-budget} and the budget controller alike, so that the controller
     * copies the budget (guard included) unchanged when it writes a new S.
     *
     * @param model     the model name (the record key and {@code model_name})
     * @param policy    ENTROPY or DIVERGENCE
     * @param threshold the S in force, nats
     * @param budget    the budget
     * @param by        who makes the change (audit trail)
     * @param reason    why (audit trail)
     * @param at        when
     * @return the message, without per-layer or per-label thresholds
     */
    public static ThresholdControl budgetSetting(String model, ExitPolicy policy, double threshold, Budget budget,
                                                 String by, String reason, Instant at) {
        return ThresholdControl.newBuilder()
                .setThreshold(threshold)
                .setPolicy(toAvro(policy))
                .setLayerThresholds(null)
                .setBudget(toAvro(budget))
                .setModelName(model)
                .setChangedBy(by)
                .setReason(reason)
                .setChangedAt(at)
                .build();
    }

    /**
     * @param policy the policy
     * @return its Avro symbol, the same name
     */
    public static ExitPolicyName toAvro(ExitPolicy policy) {
        return ExitPolicyName.valueOf(policy.name());
    }

    /**
     * @param policy the policy a message or record carries, or null
     * @return the policy of that name
     * @throws IllegalArgumentException "unknown exit policy ..." if this version has no policy of that name, or it
     *                                  is null
     */
    public static ExitPolicy fromAvro(ExitPolicyName policy) {
        try {
            return ExitPolicy.fromName(String.valueOf(policy));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown exit policy " + policy);
        }
    }

    /**
     * The budget as a control message carries it (the inverse of {@link #fromAvro(AccuracyBudget)}).
     *
     * @param b a validated budget
     * @return its Avro form; {@code protected_label} and {@code max_recall_loss} null without a guard
     */
    public static AccuracyBudget toAvro(Budget b) {
        return AccuracyBudget.newBuilder()
                .setMaxDisagreement(b.maxDisagreement()).setSampleRate(b.sampleRate())
                .setMinThreshold(b.minThreshold()).setMaxThreshold(b.maxThreshold())
                .setWindowEvents(b.windowEvents()).setWindowMs(b.windowMs()).setConfidence(b.confidence())
                .setProtectedLabel(b.guard() == null ? null : b.guard().label())
                .setMaxRecallLoss(b.guard() == null ? null : b.guard().maxRecallLoss())
                .build();
    }

    /**
     * The budget a control message carries, checked by {@link Budget}'s rules (its label guard's label is not
     * checked against the model's labels here: {@link Budget#checkLabels}).
     *
     * @param b the message's budget
     * @return the budget, with its guard when both {@code protected_label} and {@code max_recall_loss} are set
     * @throws IllegalArgumentException naming the field that breaks its rule, or when only one of the guard's
     *                                  two fields is set
     */
    public static Budget fromAvro(AccuracyBudget b) {
        return new Budget(b.getMaxDisagreement(), b.getSampleRate(), b.getMinThreshold(), b.getMaxThreshold(),
                b.getWindowEvents(), b.getWindowMs(), b.getConfidence(),
                Budget.LabelGuard.of(b.getProtectedLabel(), b.getMaxRecallLoss()));
    }
}
