package org.deebert.streams.app;

import java.util.List;
import java.util.concurrent.Callable;
import org.deebert.streams.control.ControlHistory;
import org.deebert.streams.control.ControlHistoryReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code control history}: every record still on the control topic, per model oldest first (the order the
 * service applied them): when (UTC), what it set or that it cleared the override, the source (operator or
 * accuracy-budget controller), who and why. Reads the control topic from its start to the end offsets captured
 * at start, within {@link ControlTopicReader#TIMEOUT}; creates no topic and writes nothing.
 *
 * <p>How far back: the topic is compacted, and the service creates it with {@code min.compaction.lag.ms} from
 * {@code topic.control.min.compaction.lag.ms} (7 days by default), so the history holds at least the last 7 days
 * of decisions plus the latest per model however old (see {@link ControlHistory}).
 *
 * <p>Exit codes: 0 printed; 1 the topic is missing or cannot be read in time; 2 a bad command line or setting.
 */
@Command(name = "history", mixinStandardHelpOptions = true,
        description = {"List the decisions still on the control topic, per model oldest first: when (UTC), what was set",
            "(policy, S, per-layer / per-label thresholds, budget) or cleared, by whom (operator or accuracy-budget",
            "controller) and why. Compaction keeps at least the last topic.control.min.compaction.lag.ms (7 days by",
            "default) of records, and the latest per model forever."})
final class ControlHistoryCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ConfigOption config;

    @Mixin ClientOptions client;

    @Option(names = "--model", description = "Only this model (the control topic's key); default: every model"
            + " with a record.")
    String model;

    @Option(names = "--output", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
    ControlStatusCommand.Output output;

    @Option(names = "--limit", paramLabel = "N", description = "Keep the newest N records per model (N >= 1);"
            + " default: all.")
    Integer limit;

    @Override
    public Integer call() {
        if (limit != null && limit < 1) {
            spec.commandLine().getErr().println("Rejected: --limit must be at least 1, got " + limit);
            return 2;
        }
        AppSettings settings = client.load(config);
        List<ControlHistory.ModelHistory> report = ControlHistory.group(ControlTopicReader.history(settings), model,
                limit);
        spec.commandLine().getOut().print(output == ControlStatusCommand.Output.json
                ? ControlHistoryReport.json(report) : ControlHistoryReport.text(report));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
