package org.deebert.streams.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deebert.streams.control.ControlStatusReport;
import org.deebert.streams.schema.ExitTelemetry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code control status}: per model, the setting in force, its source, who set it, when and why, and under an
 * accuracy budget the budget and the controller's last window (from the telemetry topic). Reads the control
 * topic to the end offsets captured at start and the telemetry topic's tail, each within
 * {@link ControlTopicReader#TIMEOUT}; writes nothing.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show the exit setting in force per model: policy and S (or per-layer / per-label thresholds),",
            "or the model card's recommended setting when there is no control record; who set it, when (UTC)",
            "and why; under an accuracy budget the budget and the controller's last window (telemetry topic)."})
final class ControlStatusCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ConfigOption config;

    @Mixin ClientOptions client;

    @Option(names = "--model", description = "Only this model (the control topic's key); default: every model"
            + " with a control record.")
    String model;

    @Option(names = "--output", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
    Output output;

    /** The output formats. */
    enum Output { text, json }

    @Override
    public Integer call() {
        AppSettings settings = client.load(config);
        Map<String, ControlTopicReader.Latest> control = ControlTopicReader.all(settings);
        List<String> models = model != null ? List.of(model) : new ArrayList<>(control.keySet());
        boolean budget = models.stream().map(control::get)
                .anyMatch(l -> l != null && l.value() != null && l.value().getBudget() != null);
        // The telemetry topic is read only when a budget is in force: nothing else of it is shown.
        Map<String, ExitTelemetry> windows = budget
                ? ControlTopicReader.latestControllerWindows(settings) : Map.of();
        List<ControlStatusReport.ModelStatus> report = new ArrayList<>();
        for (String m : models) {
            ControlTopicReader.Latest latest = control.get(m);
            report.add(new ControlStatusReport.ModelStatus(m, latest == null ? null : latest.value(),
                    latest == null ? null : latest.timestampMs(), windows.get(m)));
        }
        spec.commandLine().getOut().print(output == Output.json
                ? ControlStatusReport.json(report) : ControlStatusReport.text(report));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
