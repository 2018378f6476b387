package org.deebert.streams.app;

import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.deebert.streams.observability.LogFormat;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Command line of the DeeBERT streaming classifier (main class).
 *
 * <pre>
 *   run --config FILE                                   start the Kafka Streams service
 *   control set-threshold --model NAME --value S --reason TEXT [--policy ENTROPY] [--by USER] --config FILE
 *   control clear-threshold --model NAME --config FILE  back to the model card's threshold
 *   control status [--model NAME] [--output text|json] --config FILE   the setting in force per model
 *   control set-threshold ... --dry-run                 check and print the message, send nothing
 *   dead-letters replay [--code CODE]... [--dry-run] --config FILE   dead letters back to the input topic
 * </pre>
 * Exit codes: 0 success, 1 runtime failure (or, for {@code control clear-budget}, nothing to do), 2 usage error
 * or a control message rejected by validation.
 */
@Command(name = "deebert-streams", mixinStandardHelpOptions = true, version = "deebert-streams 0.1.0",
        description = "DeeBERT early-exit text classifier on Kafka Streams.",
        subcommands = {RunCommand.class, ControlCommand.class, DeadLettersCommand.class, ConfigCommand.class})
public final class Cli implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(Cli.class);

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    /**
     * @return the command line with every subcommand; a command that throws is logged at ERROR through
     *     the logging configuration (with its level and stack trace), told in one line on the command's
     *     error stream (an operator at a terminal sees why), and exits 1, instead of picocli's bare stack
     *     trace on stderr; an {@link InvalidSettingException} is told in one line (no stack trace) and exits 2
     */
    public static CommandLine commandLine() {
        // Enum values in any case (--policy patience): the model card spells policies in lower case.
        return new CommandLine(new Cli()).setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((e, command, parsed) -> {
                    if (e instanceof InvalidSettingException) {
                        // A configuration error is the operator's to fix: one line naming the key, no stack trace.
                        LOG.error("{}: {}", command.getCommandName(), e.getMessage());
                        command.getErr().println(command.getCommandName() + ": " + e.getMessage());
                        return 2;
                    }
                    LOG.error("{} failed: {}", command.getCommandName(), e.toString(), e);
                    command.getErr().println(command.getCommandName() + " failed: " + describe(e));
                    return 1;
                });
    }

    /** @return the exception and, when it wraps others, the innermost one's class (e.g. an authorization failure) */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? e.toString() : e + " (caused by " + root.getClass().getName() + ")";
    }

    /** @param args command-line arguments; the process exits with the command's exit code */
    public static void main(String[] args) {
        try {
            LogFormat.ofThisProcess();
        } catch (IllegalArgumentException e) {
            // logback would find no appender for the value and log nothing at all: refuse to start instead.
            System.err.println(e.getMessage());
            System.exit(1);
        }
        System.exit(commandLine().execute(args));
    }
}
