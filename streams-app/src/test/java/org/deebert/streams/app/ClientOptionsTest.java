package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --bootstrap-server}, {@code --command-config} and {@code --schema-registry-url} of the control commands. */
class ClientOptionsTest {

    @TempDir
    Path dir;

    private static ClientOptions parse(String... args) {
        ClientOptions options = new ClientOptions();
        new CommandLine(options).parseArgs(args);
        return options;
    }

    private ConfigOption config(String text) throws IOException {
        ConfigOption config = new ConfigOption();
        config.file = Files.writeString(dir.resolve("service.properties"), text);
        return config;
    }

    @Test
    void commandConfigOverridesTheSettingsFileAndTheFlagsOverrideBoth() throws IOException {
        Path command = Files.writeString(dir.resolve("client.properties"), "bootstrap.servers=from-command:9092\n"
                + "security.protocol=SSL\nssl.truststore.location=/etc/trust.p12\n"
                + "schema.registry.url=http://from-command:8081\n");

        AppSettings viaFile = parse("--command-config", command.toString())
                .load(config("bootstrap.servers=from-file:9092\ntopic.control=ops-control\n"));
        AppSettings viaFlags = parse("--command-config", command.toString(), "--bootstrap-server", "flag:9092",
                "--schema-registry-url", "http://flag:8081").load(config("topic.control=ops-control\n"));

        assertThat(viaFile.clientProperties()).containsEntry("bootstrap.servers", "from-command:9092")
                .containsEntry("security.protocol", "SSL").containsEntry("ssl.truststore.location", "/etc/trust.p12");
        assertThat(viaFile.topics().control()).as("the settings file still applies").isEqualTo("ops-control");
        assertThat(viaFlags.clientProperties()).containsEntry("bootstrap.servers", "flag:9092");
        assertThat(viaFile.schemaRegistryClient().baseUrl().getHost()).isEqualTo("from-command");
        assertThat(viaFlags.schemaRegistryClient().baseUrl().getHost()).isEqualTo("flag");
    }

    @Test
    void withoutTheOptionsTheSettingsFileAloneApplies() throws IOException {
        AppSettings settings = parse().load(config("bootstrap.servers=from-file:9092\n"));

        assertThat(settings.clientProperties()).containsEntry("bootstrap.servers", "from-file:9092");
    }

    @Test
    void anUnsupportedCommandConfigKeyIsRefusedByName() throws IOException {
        Path command = Files.writeString(dir.resolve("client.properties"), "security.protocol=SSL\nclient.id=ops\n");
        ClientOptions options = parse("--command-config", command.toString());
        ConfigOption none = new ConfigOption();

        assertThatThrownBy(() -> options.load(none)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported key client.id");
    }
}
