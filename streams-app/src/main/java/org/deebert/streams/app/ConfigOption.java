package org.deebert.streams.app;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option shared by the subcommands (a picocli mixin). */
public final class ConfigOption {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Settings file (properties); DEEBERT_* environment variables override it. "
                    + "Without it: the built-in defaults plus the environment.")
    Path file;

    /**
     * @return the settings from the file and the environment
     * @throws IllegalArgumentException if a setting is missing or malformed
     */
    public AppSettings load() {
        return AppSettings.load(file, System.getenv());
    }
}
