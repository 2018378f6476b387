package org.deebert.streams.app;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.control.ControlMessages;
import org.deebert.streams.control.ControlStatusReport;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.schema.ThresholdControl;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code control}: changes a running model's threshold S, or sets or clears its accuracy budget, through the
 * compacted control topic, shows the setting in force ({@code status}) and the decisions still on the topic
 * ({@code history}). Every instance of the service picks the change up through its global store. This class
 * reads the arguments and prints the outcome; {@link ControlTopicWriter} builds, checks and writes the message.
 */
@Command(name = "control", mixinStandardHelpOptions = true,
        description = "Change or show the exit threshold of running classifiers (control topic).",
        subcommands = {ControlCommand.SetThreshold.class, ControlCommand.ClearThreshold.class,
            ControlCommand.SetBudget.class, ControlCommand.ClearBudget.class, ControlStatusCommand.class,
            ControlHistoryCommand.class})
public final class ControlCommand implements Callable<Integer> {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    /** {@code control set-threshold}: validates, then produces a ThresholdControl keyed by the model name. */
    @Command(name = "set-threshold", aliases = "set", mixinStandardHelpOptions = true,
            description = {"Set the exit setting of a model; applies to events classified after it arrives.",
                "ENTROPY/DIVERGENCE: --value S in nats (finite, >= 0), optionally --layer-thresholds S_1,...,S_n",
                "or --label-threshold LABEL=S (repeatable; labels left out keep --value);",
                "PATIENCE: --value t, the patience in layers (an integer in 1..n).",
                "n comes from the model card in model.dir when it is readable; otherwise the service checks it.",
                "Label names are checked against that model card's labels, which --label-threshold needs."})
    static final class SetThreshold implements Callable<Integer> {
        @Mixin ConfigOption config;

        @Mixin ClientOptions client;

        @Option(names = "--model", required = true, description = "Model name (from its model card); the record key.")
        String model;

        @Option(names = {"--value", "--threshold"}, required = true,
                description = "Threshold S in nats (ENTROPY, DIVERGENCE), finite and >= 0; the patience in layers (PATIENCE).")
        double value;

        @Option(names = "--policy", defaultValue = "ENTROPY",
                description = "Exit policy, any case: ${COMPLETION-CANDIDATES}.")
        ExitPolicy policy;

        @Option(names = "--layer-thresholds", split = ",", paramLabel = "S_i",
                description = "Per-layer thresholds S_1,...,S_n in nats (ENTROPY, DIVERGENCE), one per layer; "
                        + "they replace --value layer by layer.")
        List<Double> layerThresholds;

        @Option(names = "--label-threshold", paramLabel = "LABEL=S",
                description = "Label-conditional threshold (ENTROPY, DIVERGENCE; repeatable): S in nats for inputs whose "
                        + "off-ramp predicts LABEL, e.g. --label-threshold ham=0 --label-threshold spam=0.7 (a benign "
                        + "label strict, a harmful one loose). Labels left out keep --value. Not with --layer-thresholds.")
        Map<String, Double> labelThresholds;

        @Mixin AuditTrail audit;

        @Option(names = "--dry-run", description = "Check and print the message (JSON) without sending it.")
        boolean dryRun;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            AppSettings settings = client.load(config);
            ModelCard card = OperatorModelCard.cardOrNull(settings, model, "the number of layers");
            ThresholdControl message;
            try {
                message = ControlTopicWriter.thresholdMessage(model, value, policy, layerThresholds, labelThresholds,
                        card == null ? 0 : card.numLayers(), card == null ? null : card.labels(),
                        audit.who(), audit.reason());
            } catch (IllegalArgumentException e) {
                System.err.println("Rejected: " + e.getMessage());
                return 2;
            }
            if (dryRun) {
                return ControlCommand.printDryRun(spec, model, message);
            }
            RecordMetadata written = ControlTopicWriter.send(settings, model, message);
            System.out.printf("Threshold for %s set to %s=%s%s%s (%s): %s-%d@%d%n", model,
                    policy == ExitPolicy.PATIENCE ? "patience" : "S", value,
                    layerThresholds == null ? "" : ", per layer " + layerThresholds,
                    labelThresholds == null ? "" : ", per label " + labelThresholds, policy,
                    written.topic(), written.partition(), written.offset());
            return 0;
        }
    }

    /** {@code control clear-threshold}: produces a tombstone, so the model card's recommended S applies again. */
    @Command(name = "clear-threshold", mixinStandardHelpOptions = true,
            description = "Remove a model's threshold override (tombstone): its model card's S applies again.")
    static final class ClearThreshold implements Callable<Integer> {
        @Mixin ConfigOption config;

        @Mixin ClientOptions client;

        @Option(names = "--model", required = true, description = "Model name (from its model card); the record key.")
        String model;

        @Option(names = "--dry-run", description = "Check and print the message (JSON) without sending it.")
        boolean dryRun;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            AppSettings settings = client.load(config);
            if (dryRun) {
                return ControlCommand.printDryRun(spec, model, null);
            }
            RecordMetadata written = ControlTopicWriter.send(settings, model, null);
            System.out.printf("Threshold override for %s cleared: %s-%d@%d%n", model, written.topic(),
                    written.partition(), written.offset());
            return 0;
        }
    }

    /**
     * {@code control set-budget}: puts an accuracy budget in force; the service's budget controller then moves S
     * within [min, max], starting at min.
     */
    @Command(name = "set-budget", mixinStandardHelpOptions = true,
            description = {"Set an accuracy budget: at most --max-disagreement of answers may differ from the full model's.",
                "A --sample-rate share of events runs every layer (the shadow); the controller keeps S (nats) at the largest",
                "value in [--min-threshold, --max-threshold] whose disagreement, with an upper confidence bound, stays",
                "within the budget. S starts at --min-threshold. A later set-threshold (or clear-budget) ends the budget.",
                "--protect LABEL --max-recall-loss SHARE adds a guard on one label: at most that share of the events the",
                "full model gives LABEL may be answered otherwise by early exit (e.g. --protect spam --max-recall-loss 0.01)."})
    static final class SetBudget implements Callable<Integer> {
        @Mixin ConfigOption config;

        @Mixin ClientOptions client;

        @Option(names = "--model", required = true, description = "Model name (from its model card); the record key.")
        String model;

        @Option(names = "--max-disagreement", required = true,
                description = "Largest share of answers allowed to differ from the full model's, in (0, 1), e.g. 0.005.")
        double maxDisagreement;

        @Option(names = "--sample-rate", required = true,
                description = "Share of events run through every layer as shadow samples, in (0, 1], e.g. 0.02.")
        double sampleRate;

        @Option(names = "--min-threshold", defaultValue = "0", description = "Lowest S, nats (default ${DEFAULT-VALUE}).")
        double minThreshold;

        @Option(names = "--max-threshold", required = true, description = "Highest S, nats.")
        double maxThreshold;

        @Option(names = "--policy", defaultValue = "ENTROPY", description = "ENTROPY or DIVERGENCE (default ${DEFAULT-VALUE}).")
        ExitPolicy policy;

        @Option(names = "--window-events", defaultValue = "1000",
                description = "Most recent shadow samples the controller judges on (default ${DEFAULT-VALUE}).")
        int windowEvents;

        @Option(names = "--window-ms", defaultValue = "600000",
                description = "... and only those younger than this, ms (default ${DEFAULT-VALUE}).")
        long windowMs;

        @Option(names = "--confidence", defaultValue = "0.95",
                description = "One-sided confidence of the upper bound on the disagreement (default ${DEFAULT-VALUE}).")
        double confidence;

        @Option(names = "--protect", paramLabel = "LABEL",
                description = "Optional label guard: a label of the model card (e.g. spam) whose recall against the full"
                        + " model is bounded by --max-recall-loss; both or neither.")
        String protect;

        @Option(names = "--max-recall-loss", paramLabel = "SHARE",
                description = "With --protect: largest share of the events the full model gives that label that early"
                        + " exit may answer otherwise, in (0, 1), e.g. 0.01.")
        Double maxRecallLoss;

        @Mixin AuditTrail audit;

        @Option(names = "--dry-run", description = "Check and print the message (JSON) without sending it.")
        boolean dryRun;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            AppSettings settings = client.load(config);
            ThresholdControl message;
            try {
                Budget budget = new Budget(maxDisagreement, sampleRate, minThreshold, maxThreshold,
                        windowEvents, windowMs, confidence, Budget.LabelGuard.of(protect, maxRecallLoss));
                // The card is read only for a guard: a budget without one needs nothing from it.
                List<String> labels = budget.guard() == null ? List.of() : OperatorModelCard.labelsOrUnknown(settings, model);
                message = ControlTopicWriter.budgetMessage(model, policy, budget, labels,
                        audit.who(), audit.reason());
            } catch (IllegalArgumentException e) {
                System.err.println("Rejected: " + e.getMessage());
                return 2;
            }
            if (dryRun) {
                return ControlCommand.printDryRun(spec, model, message);
            }
            RecordMetadata written = ControlTopicWriter.send(settings, model, message);
            System.out.printf(Locale.ROOT, "Accuracy budget for %s set: at most %.4g of answers differ from the full model,"
                            + "%s %s in [%s, %s] nats starting at %s, sample rate %s: %s-%d@%d%n", model, maxDisagreement,
                    protect == null ? "" : String.format(Locale.ROOT, " at most %.4g of %s recall lost,", maxRecallLoss,
                            protect),
                    policy, minThreshold, maxThreshold, minThreshold, sampleRate, written.topic(), written.partition(),
                    written.offset());
            return 0;
        }
    }

    /**
     * {@code control clear-budget}: ends a model's accuracy budget and fixes S, at {@code --value} or where the
     * controller left it (read back from the control topic).
     */
    @Command(name = "clear-budget", mixinStandardHelpOptions = true,
            description = {"End a model's accuracy budget: S stays fixed where the controller left it, or at --value.",
                "Use clear-threshold instead to return to the model card's S."})
    static final class ClearBudget implements Callable<Integer> {
        @Mixin ConfigOption config;

        @Mixin ClientOptions client;

        @Option(names = "--model", required = true, description = "Model name (from its model card); the record key.")
        String model;

        @Option(names = "--value", description = "Fix S at this value (nats) instead of the controller's last choice.")
        Double value;

        @Mixin AuditTrail audit;

        @Option(names = "--dry-run", description = "Check and print the message (JSON) without sending it.")
        boolean dryRun;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            AppSettings settings = client.load(config);
            ThresholdControl latest = ControlTopicReader.latest(settings, model);
            if (latest == null || latest.getBudget() == null) {
                System.err.println("No accuracy budget is in force for " + model + "; nothing written");
                return 1;
            }
            double s = value != null ? value : latest.getThreshold();
            ThresholdControl message;
            try {
                message = ControlTopicWriter.thresholdMessage(model, s, ControlMessages.fromAvro(latest.getPolicy()),
                        null, 0, audit.who(), audit.reason());
            } catch (IllegalArgumentException e) {
                System.err.println("Rejected: " + e.getMessage());
                return 2;
            }
            if (dryRun) {
                return ControlCommand.printDryRun(spec, model, message);
            }
            RecordMetadata written = ControlTopicWriter.send(settings, model, message);
            System.out.printf(Locale.ROOT, "Accuracy budget for %s cleared; S fixed at %s nats (%s): %s-%d@%d%n", model, s,
                    latest.getPolicy(), written.topic(), written.partition(), written.offset());
            return 0;
        }
    }

    /**
     * {@code --dry-run}: prints the record that would be written (JSON: key and value, null for a tombstone) on the
     * command's standard output and writes nothing.
     *
     * @return 0
     */
    static int printDryRun(CommandSpec spec, String model, ThresholdControl message) {
        spec.commandLine().getOut().print(ControlStatusReport.messageJson(model, message));
        spec.commandLine().getOut().flush();
        spec.commandLine().getErr().println("Dry run: nothing written to the control topic");
        return 0;
    }
}
