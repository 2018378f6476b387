package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md is what {@link ConfigurationReference} writes from the defaults file. */
class ConfigurationReferenceTest {

    /** Relative to the streams-app module, where Maven runs its tests. */
    private static final Path REFERENCE = Path.of("..", "docs", "configuration.md");
    private static final String REGENERATE = "mvn -B -o -q test -pl schemas,streams-app -Dtest=ConfigurationReferenceTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Ddeebert.docs.regenerate=true";

    @Test
    void theCheckedInReferenceIsUpToDate() throws IOException {
        String expected = ConfigurationReference.markdown();
        if (Boolean.getBoolean("deebert.docs.regenerate")) {
            Files.createDirectories(REFERENCE.getParent());
            Files.writeString(REFERENCE, expected, StandardCharsets.UTF_8);
        }
        assertThat(Files.exists(REFERENCE)).as("%s is missing; regenerate it with: %s", REFERENCE, REGENERATE).isTrue();
        assertThat(Files.readString(REFERENCE, StandardCharsets.UTF_8))
                .as("%s is stale (a key or its comment in deebert-streams.properties changed); regenerate it with: %s",
                        REFERENCE, REGENERATE)
                .isEqualTo(expected);
    }

    @Test
    void theReferenceListsEveryKeyWithItsVariableAndTheDeprecatedNames() {
        String md = ConfigurationReference.markdown();

        for (String key : SettingKeys.keys().keySet()) {
            assertThat(md).contains("| `" + key + "` | `" + AppSettings.envName(key) + "` |");
        }
        assertThat(md).contains("| `linger.ms` | `DEEBERT_LINGER_MS` | `classifier.batch.linger.ms` |");
    }
}
