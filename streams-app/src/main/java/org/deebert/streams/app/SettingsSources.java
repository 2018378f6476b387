package org.deebert.streams.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.CommonClientConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the settings come from and which source wins: the classpath defaults
 * ({@value AppSettings#DEFAULTS_RESOURCE}), then a properties file, then {@code DEEBERT_*} environment variables
 * (see {@link AppSettings} for the mapping of variable names to keys). Also says which keys are passed through to
 * the Kafka clients unchanged. Unknown keys and variables, and two keys that set the same thing, fail here: a typo
 * must not leave a setting silently at its default.
 */
final class SettingsSources {

    private static final Logger LOG = LoggerFactory.getLogger(SettingsSources.class);

    private SettingsSources() {
    }

    /**
     * @param file a properties file, or null for defaults plus environment only
     * @param env  the environment
     * @return the merged properties: defaults, then {@code file}, then {@code env}; deprecated keys renamed
     * @throws UncheckedIOException    if a file cannot be read
     * @throws InvalidSettingException if the file holds an unknown key, the environment an unknown {@code DEEBERT_*}
     *                                 variable, or two keys set the same thing (the message names them)
     */
    static Properties load(Path file, Map<String, String> env) {
        Properties user = new Properties();
        Set<String> deprecatedUsed = new TreeSet<>();
        Set<String> fileKeys = Set.of();
        if (file != null) {
            Properties fromFile = new Properties();
            try (InputStream in = Files.newInputStream(file)) {
                fromFile.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read settings " + file, e);
            }
            fileKeys = fromFile.stringPropertyNames();
            user.putAll(checked(fromFile, "in " + file, deprecatedUsed));
        }
        user.putAll(checked(fromEnvironment(env, fileKeys), "in the environment", deprecatedUsed));
        return merged(user, deprecatedUsed);
    }

    /**
     * @param overrides settings by key
     * @return the classpath defaults with {@code overrides} on top; the environment is not read
     * @throws UncheckedIOException    if the defaults cannot be read
     * @throws InvalidSettingException if {@code overrides} holds an unknown key or two keys that set the same thing
     */
    static Properties withDefaults(Map<String, String> overrides) {
        Properties given = new Properties();
        given.putAll(overrides);
        Set<String> deprecatedUsed = new TreeSet<>();
        return merged(checked(given, "in the given settings", deprecatedUsed), deprecatedUsed);
    }

    /**
     * Checks complete properties (defaults included) given directly, without the classpath defaults.
     *
     * @param p the properties
     * @return {@code p} with deprecated keys renamed
     * @throws InvalidSettingException if {@code p} holds an unknown key or a deprecated key next to its new name
     */
    static Properties checkedComplete(Properties p) {
        Set<String> deprecatedUsed = new TreeSet<>();
        Properties checked = checked(p, "in the given settings", deprecatedUsed);
        warnDeprecated(deprecatedUsed);
        return checked;
    }

    private static Properties merged(Properties user, Set<String> deprecatedUsed) {
        for (String own : SettingKeys.STREAMS_DUPLICATES) {
            String streams = AppSettings.STREAMS_PREFIX + own;
            if (user.containsKey(own) && user.containsKey(streams)) {
                throw new InvalidSettingException("settings " + own + " and " + streams
                        + " are both set and set the same Kafka Streams setting: set " + own + " only");
            }
        }
        warnDeprecated(deprecatedUsed);
        Properties p = defaults();
        p.putAll(user);
        return p;
    }

    private static void warnDeprecated(Set<String> deprecatedUsed) {
        for (String old : deprecatedUsed) {
            LOG.warn("setting {} is deprecated: use {} (env {})", old, SettingKeys.DEPRECATED.get(old),
                    envName(SettingKeys.DEPRECATED.get(old)));
        }
    }

    /**
     * @return {@code layer} with deprecated keys renamed to their new names
     * @throws InvalidSettingException for an unknown key, or a deprecated key and its new name both in {@code layer}
     */
    private static Properties checked(Properties layer, String where, Set<String> deprecatedUsed) {
        Properties out = new Properties();
        for (String key : new TreeSet<>(layer.stringPropertyNames())) {
            String value = layer.getProperty(key);
            String replacement = SettingKeys.DEPRECATED.get(key);
            if (replacement != null) {
                if (layer.containsKey(replacement)) {
                    throw new InvalidSettingException("settings " + key + " (deprecated) and " + replacement
                            + " are both set " + where + ": set " + replacement + " only");
                }
                deprecatedUsed.add(key);
                out.setProperty(replacement, value);
            } else if (SettingKeys.isOwn(key) || SettingKeys.isPassThrough(key)) {
                out.setProperty(key, value);
            } else {
                throw new InvalidSettingException("unknown setting " + key + " " + where
                        + suggestion(key, SettingKeys.keys().keySet(), k -> k));
            }
        }
        return out;
    }

    private static String suggestion(String unknown, java.util.Collection<String> ownKeys,
            java.util.function.UnaryOperator<String> spelling) {
        Map<String, String> candidates = new TreeMap<>();
        for (String key : ownKeys) {
            candidates.put(spelling.apply(key), spelling.apply(key));
        }
        SettingKeys.DEPRECATED.forEach((old, replacement) ->
                candidates.put(spelling.apply(old), spelling.apply(replacement)));
        return SettingKeys.nearest(unknown, candidates.keySet())
                .map(near -> " (did you mean " + candidates.get(near) + "?)")
                .orElse("");
    }

    private static Properties defaults() {
        Properties p = new Properties();
        try (InputStream defaults = AppSettings.class.getResourceAsStream(AppSettings.DEFAULTS_RESOURCE)) {
            p.load(defaults);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + AppSettings.DEFAULTS_RESOURCE, e);
        }
        return p;
    }

    /**
     * Environment overrides: own keys and deprecated keys by name mapping, the keys of the settings file likewise,
     * pass-through keys mechanically (see {@link AppSettings}).
     *
     * @throws InvalidSettingException for a {@code DEEBERT_*} variable that is none of these nor one of
     *                                 {@link SettingKeys#TOOL_VARIABLES}
     */
    static Properties fromEnvironment(Map<String, String> env, Set<String> fileKeys) {
        Map<String, String> keysByEnvName = new TreeMap<>();
        SettingKeys.DEPRECATED.keySet().forEach(key -> keysByEnvName.put(envName(key), key));
        fileKeys.forEach(key -> keysByEnvName.put(envName(key), key));
        SettingKeys.keys().keySet().forEach(key -> keysByEnvName.put(envName(key), key));
        Properties p = new Properties();
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(AppSettings.ENV_PREFIX) || SettingKeys.TOOL_VARIABLES.contains(name)) {
                continue;
            }
            String key = keysByEnvName.get(name);
            if (key == null) {
                String guess = name.substring(AppSettings.ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
                if (!SettingKeys.isPassThrough(guess)) {
                    throw new InvalidSettingException("unknown environment variable " + name
                            + suggestion(name, SettingKeys.keys().keySet(), SettingsSources::envName));
                }
                key = guess;
            }
            p.setProperty(key, e.getValue());
        }
        return p;
    }

    /** @return the environment variable that overrides {@code key}, e.g. DEEBERT_BOOTSTRAP_SERVERS */
    static String envName(String key) {
        return AppSettings.ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** @return whether {@code key} goes unchanged to every Kafka client: {@code security.protocol}, {@code ssl.*}, {@code sasl.*} */
    static boolean isClientPassThrough(String key) {
        return key.equals(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG) || key.startsWith("ssl.") || key.startsWith("sasl.");
    }
}
