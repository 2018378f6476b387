package org.deebert.streams.deadletter;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's dead-letter code table lists every {@link DeadLetterCode}, each once, and nothing else. */
class DeadLetterCodeReadmeTest {

    /** A table row whose first cell is a code in backticks: {@code | `EMPTY_TEXT` | ... |}. */
    private static final Pattern CODE_ROW = Pattern.compile("^\\|\\s*`([A-Z_]+)`\\s*\\|");

    @Test
    void theReadmeTableListsEveryDeadLetterCode() throws IOException {
        // Maven runs a module's tests in its basedir (streams-app/), so the repository's README is one level up.
        Path readme = Path.of("..", "README.md");
        List<String> tableCodes = new ArrayList<>();
        boolean inSection = false;
        for (String line : Files.readAllLines(readme)) {
            if (line.startsWith("#")) {
                inSection = line.toLowerCase().contains("dead-letter codes");
                continue;
            }
            Matcher m = CODE_ROW.matcher(line);
            if (inSection && m.find()) {
                tableCodes.add(m.group(1));
            }
        }
        assertThat(tableCodes).as("codes in README.md's 'Dead-letter codes' table")
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(DeadLetterCode.values()).map(Enum::name).toList());
    }
}
