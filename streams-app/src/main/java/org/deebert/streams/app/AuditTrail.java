package org.deebert.streams.app;

import picocli.CommandLine.Option;

/**
 * The {@code --reason} and {@code --by} options of every {@code control} command that writes a setting (a picocli
 * mixin): why and by whom, carried in the control message so that the setting in force can be traced back.
 */
public final class AuditTrail {

    @Option(names = "--reason", required = true, description = "Why (audit trail).")
    String reason;

    @Option(names = "--by", description = "Who (audit trail); default: the OS user.")
    String by;

    /** @return why the setting was changed, as given */
    public String reason() {
        return reason;
    }

    /** @return who changed it: {@code --by}, else the OS user ({@code user.name}), else {@code unknown} */
    public String who() {
        return by != null ? by : System.getProperty("user.name", "unknown");
    }
}
