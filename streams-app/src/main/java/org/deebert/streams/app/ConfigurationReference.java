package org.deebert.streams.app;

import java.util.List;
import java.util.TreeMap;

/**
 * Writes the configuration reference ({@code docs/configuration.md}) in Markdown from {@link SettingKeys}: every
 * key with its environment variable, default and meaning (the comment above it in the defaults file), the
 * deprecated names, and the rules of validation. {@code ConfigurationReferenceTest} fails when the checked-in file
 * differs from what this writes, and regenerates it on request.
 */
public final class ConfigurationReference {

    private ConfigurationReference() {
    }

    /** @return the whole reference, Markdown, ending with a newline */
    public static String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Configuration reference\n\n")
                .append("<!-- Generated from streams-app/src/main/resources/deebert-streams.properties by\n")
                .append("     ConfigurationReference; do not edit by hand (ConfigurationReferenceTest says how to regenerate). -->\n\n")
                .append("`run --config FILE` reads the built-in defaults (below), then `FILE`, then the environment: ")
                .append("`DEEBERT_` + the key in upper case with `.` and `-` as `_` overrides a key. ")
                .append("Kafka's own settings pass through unchanged: `security.protocol`, `ssl.*` and `sasl.*` to every ")
                .append("Kafka client, `kafka.X` to Kafka Streams as `X` (their variables map back mechanically, e.g. ")
                .append("`DEEBERT_KAFKA_STATE_DIR` sets `kafka.state.dir`).\n\n")
                .append("## Validation\n\n")
                .append("Start-up stops with one line naming the key (exit code 2 from the command line) when:\n\n")
                .append("- the file (or the settings a program passes) holds a key that is neither below nor a pass-through ")
                .append("key, or the environment a `DEEBERT_*` variable that maps to none; the nearest known name within ")
                .append("two edits is suggested. Variables of the repository's scripts are not settings and are ignored: ")
                .append(String.join(", ", new java.util.TreeSet<>(SettingKeys.TOOL_VARIABLES).stream()
                        .map(v -> "`" + v + "`").toList()))
                .append(";\n")
                .append("- a key and its `kafka.`-prefixed twin are both set (")
                .append(String.join(", ", SettingKeys.STREAMS_DUPLICATES.stream().map(k -> "`" + k + "`").toList()))
                .append("): set the key without the prefix;\n")
                .append("- a deprecated key and its new name are both set in one source;\n")
                .append("- a value is missing, of the wrong type or out of range.\n\n")
                .append("Pass-through keys are not checked by the service; Kafka logs a WARN for names it does not know.\n\n")
                .append("## Deprecated keys\n\n")
                .append("They still work, with one WARN at start-up naming the new key.\n\n")
                .append("| Deprecated key | Environment variable | Use instead |\n|---|---|---|\n");
        new TreeMap<>(SettingKeys.DEPRECATED).forEach((old, replacement) -> md.append("| `").append(old).append("` | `")
                .append(AppSettings.envName(old)).append("` | `").append(replacement).append("` |\n"));
        md.append("\n## Settings\n");
        List<SettingKeys.Group> groups = SettingKeys.groups();
        // The defaults file's first comment is its own header (how the file is read), said above in other words.
        for (SettingKeys.Group g : groups.subList(1, groups.size())) {
            md.append('\n');
            if (!g.keys().isEmpty()) {
                md.append("| Key | Environment variable | Default |\n|---|---|---|\n");
                for (SettingKeys.Key k : g.keys()) {
                    md.append("| `").append(k.name()).append("` | `").append(AppSettings.envName(k.name())).append("` | ")
                            .append(k.defaultValue().isEmpty() ? "(empty)" : "`" + k.defaultValue() + "`").append(" |\n");
                }
                md.append('\n');
            }
            for (String raw : g.doc()) {
                // <name> and the like are words here, not HTML tags.
                String line = raw.replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*").replace("_", "\\_");
                if (line.matches("[a-z][a-z0-9._-]*=.*")) {
                    md.append("- `").append(raw).append("`\n");
                } else if (line.startsWith(" ")) {
                    md.append("- ").append(line.strip()).append('\n');
                } else {
                    md.append(line).append('\n');
                }
            }
        }
        return md.toString();
    }
}
