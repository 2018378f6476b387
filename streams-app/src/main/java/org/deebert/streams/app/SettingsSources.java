package org.deebert.streams.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * Where the settings come from and which source wins: the classpath defaults
 * ({@value AppSettings#DEFAULTS_RESOURCE}), then a properties file, then {@code DEEBERT_*} environment variables
 * (see {@link AppSettings} for the mapping of variable names to keys). Also says which keys are passed through to
 * the Kafka clients unchanged.
 */
final class SettingsSources {

    private SettingsSources() {
    }

    /**
     * @param file a properties file, or null for defaults plus environment only
     * @param env  the environment
     * @return the merged properties: defaults, then {@code file}, then {@code env}
     * @throws UncheckedIOException if a file cannot be read
     */
    static Properties load(Path file, Map<String, String> env) {
        Properties p = new Properties();
        try (InputStream defaults = AppSettings.class.getResourceAsStream(AppSettings.DEFAULTS_RESOURCE)) {
            if (defaults != null) {
                p.load(defaults);
            }
            if (file != null) {
                try (InputStream in = Files.newInputStream(file)) {
                    p.load(in);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read settings " + file, e);
        }
        applyEnvironment(p, env);
        return p;
    }

    /**
     * @param overrides settings by key
     * @return the classpath defaults with {@code overrides} on top; the environment is not read
     * @throws UncheckedIOException if the defaults cannot be read
     */
    static Properties withDefaults(Map<String, String> overrides) {
        Properties p = new Properties();
        try (InputStream defaults = AppSettings.class.getResourceAsStream(AppSettings.DEFAULTS_RESOURCE)) {
            p.load(defaults);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + AppSettings.DEFAULTS_RESOURCE, e);
        }
        p.putAll(overrides);
        return p;
    }

    /** Environment overrides: known keys by name mapping, pass-through keys mechanically (see {@link AppSettings}). */
    static void applyEnvironment(Properties p, Map<String, String> env) {
        Map<String, String> keysByEnvName = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            keysByEnvName.put(envName(key), key);
        }
        for (Map.Entry<String, String> e : env.entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(AppSettings.ENV_PREFIX)) {
                continue;
            }
            String key = keysByEnvName.get(name);
            if (key == null) {
                String guess = name.substring(AppSettings.ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
                if (isClientPassThrough(guess) || guess.startsWith(AppSettings.STREAMS_PREFIX)) {
                    key = guess;
                }
            }
            if (key != null) {
                p.setProperty(key, e.getValue());
            }
        }
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
