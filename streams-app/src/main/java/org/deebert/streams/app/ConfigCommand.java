package org.deebert.streams.app;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code config}: checks the settings exactly as {@code run} would (defaults, {@code --config FILE}, the
 * {@code DEEBERT_*} environment) without connecting anywhere, and prints the effective ones as {@code key=value}
 * lines, secrets hidden. Exit code 0 when {@code run} would accept them; 2 with one line naming the key when not.
 */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Check the settings as run would and print the effective ones, secrets hidden "
                + "(exit 0: valid, 2: invalid, with one line naming the key).")
public final class ConfigCommand implements Callable<Integer> {

    /** What a hidden value prints as. */
    static final String HIDDEN = "[hidden]";
    private static final Pattern URL_USER_INFO = Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@]*)@");

    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    /**
     * @return 0 after printing the effective settings
     * @throws InvalidSettingException if {@code run} would not start with these settings (exit code 2)
     */
    @Override
    public Integer call() {
        Properties effective = SettingsSources.load(config.file, System.getenv());
        AppSettings.fromProperties(effective);
        PrintWriter out = spec.commandLine().getOut();
        out.println("# Effective settings (defaults, then " + (config.file == null ? "no file" : config.file)
                + ", then DEEBERT_* variables); secrets " + HIDDEN);
        masked(effective).forEach((key, value) -> out.println(key + "=" + value));
        out.flush();
        return 0;
    }

    /**
     * @param p settings
     * @return every setting by key, sorted, with secret values (see {@link #isSecret}) replaced by {@value #HIDDEN}
     *     and the user-info part of {@code schema.registry.url} hidden
     */
    static Map<String, String> masked(Properties p) {
        Map<String, String> out = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            String value = p.getProperty(key).trim();
            if (isSecret(key) && !value.isEmpty()) {
                value = HIDDEN;
            } else if (key.equals("schema.registry.url")) {
                Matcher m = URL_USER_INFO.matcher(value);
                value = m.find() ? m.replaceFirst(Matcher.quoteReplacement(m.group(1) + HIDDEN + "@")) : value;
            }
            out.put(key, value);
        }
        return out;
    }

    /**
     * @param key a key
     * @return whether its value is a secret: a name with {@code password}, {@code secret} or {@code jaas} in it,
     *     {@code basic.auth.user.info}, or any {@code *.user.info}
     */
    static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("secret") || k.contains("jaas") || k.endsWith("user.info");
    }
}
