package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code config} prints the effective settings with every secret hidden, or fails as {@code run} would. */
class ConfigCommandTest {

    private static final String SECRET = "s3cret-value";

    @TempDir
    Path dir;

    @Test
    void validSettingsArePrintedWithSecretsHiddenAndExitZero() throws IOException {
        Path f = dir.resolve("app.properties");
        Files.writeString(f, String.join("\n",
                "basic.auth.credentials.source=USER_INFO",
                "basic.auth.user.info=svc:" + SECRET,
                "security.protocol=SASL_SSL",
                "sasl.jaas.config=ScramLoginModule required username=\"svc\" password=\"" + SECRET + "\";",
                "ssl.truststore.password=" + SECRET,
                "kafka.ssl.key.password=" + SECRET,
                "linger.ms=7", ""));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int exit = Cli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute("config", "--config", f.toString());

        assertThat(exit).isZero();
        assertThat(err.toString()).isEmpty();
        assertThat(out.toString()).doesNotContain(SECRET)
                .contains("\nbasic.auth.user.info=[hidden]\n", "\nsasl.jaas.config=[hidden]\n",
                        "\nssl.truststore.password=[hidden]\n", "\nkafka.ssl.key.password=[hidden]\n")
                // Deprecated names print as the key they set; empty secrets stay visibly empty.
                .contains("\nclassifier.batch.linger.ms=7\n", "\nschema.registry.ssl.keystore.password=\n",
                        "\nbootstrap.servers=127.0.0.1:9092\n")
                .doesNotContain("\nlinger.ms=");
    }

    @Test
    void invalidSettingsExitTwoWithOneLineNamingTheKey() throws IOException {
        Path f = dir.resolve("app.properties");
        Files.writeString(f, "topic.inptu=x\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int exit = Cli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute("config", "--config", f.toString());

        assertThat(exit).isEqualTo(2);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).hasLineCount(1).contains("unknown setting topic.inptu").contains("topic.input");
    }

    @Test
    void theRegistryUrlsUserInfoIsHidden() {
        Properties p = new Properties();
        p.setProperty("schema.registry.url", "https://svc:" + SECRET + "@registry:8081/apis/ccompat/v7");
        p.setProperty("topic.input", "in");

        assertThat(ConfigCommand.masked(p)).containsEntry("schema.registry.url", "https://[hidden]@registry:8081/apis/ccompat/v7")
                .containsEntry("topic.input", "in");
    }
}
