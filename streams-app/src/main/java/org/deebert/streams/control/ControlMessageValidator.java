package org.deebert.streams.control;

import java.util.List;
import java.util.Map;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.schema.ThresholdControl;

/**
 * Decides whether a {@link ThresholdControl} message may change this model's exit setting. Used both by
 * the global-store processor and by the CLI before it produces a message, so both apply the same rules.
 * The rules on the setting itself live in {@link ExitSetting} (its constructor and
 * {@link ExitSetting#validateFor(int)}); this class adds the message's own: key and model name, and the
 * label names of {@code label_thresholds}, which it turns into the setting's by-index list with the model's
 * labels ({@link ExitSetting#labelThresholdsByIndex}), so that list always has one value per label.
 *
 * <p>The rules: the key and {@code model_name} equal this model's name; the policy is known here;
 * ENTROPY/DIVERGENCE: S finite and {@code >= 0} (nats); PATIENCE: the threshold is an integer patience in
 * 1..n (layers); {@code layer_thresholds}, when present, only with ENTROPY/DIVERGENCE, exactly n values,
 * each finite and {@code >= 0} (nats); {@code label_thresholds}, when present, only with ENTROPY/DIVERGENCE,
 * not with {@code layer_thresholds}, at least one entry, every key one of the model's labels, each value finite
 * and {@code >= 0} (nats; labels left out get {@code threshold}). With a {@code budget}: its own rules
 * ({@link Budget}), ENTROPY or DIVERGENCE, no per-layer or per-label list, S within the budget's
 * [min, max] ({@link Budget#check}); a label guard needs both {@code protected_label} and
 * {@code max_recall_loss} ({@link Budget.LabelGuard#of}), and its label must be one of the model's
 * labels when they are known ({@link Budget#checkLabels}).
 */
public final class ControlMessageValidator {

    private final String modelName;
    private final int numLayers;
    private final List<String> labels;

    /**
     * A validator that does not know the model's labels: a message with {@code label_thresholds} is rejected,
     * and a budget's protected label is left to the service.
     *
     * @param modelName the name of the model served here (from its model card)
     * @param numLayers the model's number of layers n (from its model card), or 0 when unknown (the CLI
     *                  without a readable model card): then the rules that need n are left to the service
     */
    public ControlMessageValidator(String modelName, int numLayers) {
        this(modelName, numLayers, null);
    }

    /**
     * @param modelName the name of the model served here (from its model card)
     * @param numLayers the model's number of layers n (from its model card), or 0 when unknown (the CLI
     *                  without a readable model card): then the rules that need n are left to the service
     * @param labels    the model's label names in index order (the model card's {@code labels}), or null or
     *                  empty when unknown: then a message with {@code label_thresholds} is rejected, since its names cannot
     *                  be checked or turned into label indices, and a budget's protected label is
     *                  checked by the service only
     * @throws IllegalArgumentException if {@code numLayers} is negative
     */
    public ControlMessageValidator(String modelName, int numLayers, List<String> labels) {
        if (numLayers < 0) {
            throw new IllegalArgumentException("numLayers must be >= 0, got " + numLayers);
        }
        this.modelName = modelName;
        this.numLayers = numLayers;
        // Empty means unknown, like null: a model has at least one label.
        this.labels = labels == null || labels.isEmpty() ? null : List.copyOf(labels);
    }

    /**
     * @param key   the record key (must equal the model name)
     * @param value the control message (not a tombstone)
     * @return the exit setting the message asks for
     * @throws IllegalArgumentException saying which rule the message breaks (see the class comment)
     */
    public ExitSetting validate(String key, ThresholdControl value) {
        return validateMessage(key, value).setting();
    }

    /**
     * As {@link #validate}, with the budget: what the message puts in force.
     *
     * @param key   the record key (must equal the model name)
     * @param value the control message (not a tombstone)
     * @return the setting, with source {@link ExitSettingInForce#CONTROL_TOPIC} (fixed S) or
     *     {@link ExitSettingInForce#ACCURACY_BUDGET} (with its budget)
     * @throws IllegalArgumentException saying which rule the message breaks (see the class comment)
     */
    public ExitSettingInForce validateMessage(String key, ThresholdControl value) {
        if (!modelName.equals(key)) {
            throw new IllegalArgumentException("record key '" + key + "' is not the model name '" + modelName + "'");
        }
        if (!modelName.equals(value.getModelName())) {
            throw new IllegalArgumentException("model_name '" + value.getModelName() + "' differs from the key '" + key + "'");
        }
        ExitPolicy policy = ControlMessages.fromAvro(value.getPolicy());
        List<Double> layerThresholds = value.getLayerThresholds();
        Map<String, Double> byName = value.getLabelThresholds();
        if (byName != null && labels == null) {
            throw new IllegalArgumentException("label_thresholds need the model's labels to be checked, and they are"
                    + " unknown here (no readable model card for " + modelName + ")");
        }
        ExitSetting setting = new ExitSetting(policy, value.getThreshold(), layerThresholds,
                ExitSetting.labelThresholdsByIndex(byName, value.getThreshold(), labels));
        if (numLayers > 0) {
            // The per-label list has one value per label by construction: the number of layers is what is left.
            setting.validateFor(numLayers);
        }
        if (value.getBudget() == null) {
            return new ExitSettingInForce(setting, ExitSettingInForce.CONTROL_TOPIC);
        }
        Budget budget = ControlMessages.fromAvro(value.getBudget()).checkLabels(labels);
        return new ExitSettingInForce(budget.check(setting), ExitSettingInForce.ACCURACY_BUDGET, budget);
    }
}
