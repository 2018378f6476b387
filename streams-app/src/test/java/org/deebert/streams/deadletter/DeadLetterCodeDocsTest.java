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

/**
 * The dead-letter code table of docs/dead-letters.md (the rows under a heading that says "dead-letter codes")
 * lists every {@link DeadLetterCode}, each once, and nothing else.
 */
class DeadLetterCodeDocsTest {

    /** A table row whose first cell is a code in backticks: {@code | `EMPTY_TEXT` | ... |}. */
    private static final Pattern CODE_ROW = Pattern.compile("^\\|\\s*`([A-Z_]+)`\\s*\\|");

    @Test
    void theDocsTableListsEveryDeadLetterCode() throws IOException {
        // Maven runs a module's tests in its basedir (streams-app/), so the repository's docs/ is one level up.
        Path page = Path.of("..", "docs", "dead-letters.md");
        List<String> tableCodes = new ArrayList<>();
        boolean inSection = false;
        for (String line : Files.readAllLines(page)) {
            if (line.startsWith("#")) {
                inSection = line.toLowerCase().contains("dead-letter codes");
                continue;
            }
            Matcher m = CODE_ROW.matcher(line);
            if (inSection && m.find()) {
                tableCodes.add(m.group(1));
            }
        }
        assertThat(tableCodes).as("codes in the 'Dead-letter codes' table of docs/dead-letters.md")
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(DeadLetterCode.values()).map(Enum::name).toList());
    }
}
