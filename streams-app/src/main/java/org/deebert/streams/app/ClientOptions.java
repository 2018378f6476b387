package org.deebert.streams.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine.Option;

/**
 * The connection options of the {@code control} commands (a picocli mixin), as Kafka's own tools spell them, so an
 * operator can run a command without the service's settings file: {@code --bootstrap-server},
 * {@code --command-config} (a properties file of Kafka client security settings, and optionally the registry's) and
 * {@code --schema-registry-url}. They go on top of {@code --config} (or the defaults) and the environment:
 * {@code --command-config} over those, the two URL options over everything.
 */
public final class ClientOptions {

    static final String REGISTRY_URL = "schema.registry.url";

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Kafka brokers to connect to; overrides bootstrap.servers.")
    String bootstrapServer;

    @Option(names = "--command-config", paramLabel = "FILE",
            description = "Kafka client properties (security.protocol, ssl.*, sasl.*, bootstrap.servers) and optionally"
                    + " the registry's (schema.registry.url, schema.registry.ssl.*, basic.auth.*), as for Kafka's tools.")
    Path commandConfig;

    @Option(names = "--schema-registry-url", paramLabel = "URL",
            description = "Schema Registry URL; overrides schema.registry.url.")
    String schemaRegistryUrl;

    /**
     * @param config the {@code --config} option (may name no file)
     * @return the settings: defaults, the settings file and the environment, then {@code --command-config}, then
     *     {@code --bootstrap-server} and {@code --schema-registry-url}
     * @throws IllegalArgumentException if a setting is malformed, or {@code --command-config} holds a key other than
     *     those above (the message names it)
     * @throws UncheckedIOException     if a file cannot be read
     */
    public AppSettings load(ConfigOption config) {
        if (bootstrapServer == null && commandConfig == null && schemaRegistryUrl == null) {
            return config.load();
        }
        Properties p = SettingsSources.load(config.file, System.getenv());
        if (commandConfig != null) {
            Properties extra = new Properties();
            try (InputStream in = Files.newInputStream(commandConfig)) {
                extra.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --command-config " + commandConfig, e);
            }
            for (String key : extra.stringPropertyNames()) {
                if (!accepted(key)) {
                    // Refused rather than ignored: a setting the operator relies on must not silently do nothing.
                    throw new IllegalArgumentException("--command-config " + commandConfig + ": unsupported key " + key
                            + " (supported: bootstrap.servers, security.protocol, ssl.*, sasl.*, schema.registry.url,"
                            + " schema.registry.ssl.*, basic.auth.credentials.source, basic.auth.user.info)");
                }
                p.setProperty(key, extra.getProperty(key));
            }
        }
        if (bootstrapServer != null) {
            p.setProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
        }
        if (schemaRegistryUrl != null) {
            p.setProperty(REGISTRY_URL, schemaRegistryUrl);
        }
        return AppSettings.fromProperties(p);
    }

    private static boolean accepted(String key) {
        return key.equals(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) || SettingsSources.isClientPassThrough(key)
                || key.equals(REGISTRY_URL) || key.startsWith(RegistrySettings.TLS_PREFIX)
                || key.equals(RegistrySettings.CREDENTIALS_SOURCE) || key.equals(RegistrySettings.USER_INFO);
    }
}
