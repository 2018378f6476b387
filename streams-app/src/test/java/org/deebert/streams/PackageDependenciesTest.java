package org.deebert.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The service's packages depend one way: app -> observability -> topology -> control, deadletter -> input
 * -> classifier -> model, budget, registry -> exit (docs/architecture.md). Read from the main sources' code (imports and
 * fully qualified names, comments left out), so a new upward reference fails here rather than in a review.
 */
class PackageDependenciesTest {

    /** Layer of each package: a package may use only packages of a higher layer number. */
    private static final Map<String, Integer> LAYER = Map.ofEntries(
            Map.entry("app", 0), Map.entry("observability", 1), Map.entry("topology", 2),
            Map.entry("control", 3), Map.entry("deadletter", 3), Map.entry("input", 4), Map.entry("classifier", 5),
            Map.entry("model", 6), Map.entry("budget", 6), Map.entry("registry", 6), Map.entry("exit", 7));
    private static final Path MAIN = Path.of("src/main/java/org/deebert/streams");
    private static final Pattern REFERENCE = Pattern.compile("\\borg\\.deebert\\.streams\\.([a-z]+)\\.");
    private static final Pattern COMMENT = Pattern.compile("//[^\\n]*|/\\*.*?\\*/", Pattern.DOTALL);

    @Test
    void everyPackageIsPlacedAndNoPackageUsesOneAboveIt() throws IOException {
        List<String> upward = new ArrayList<>();
        List<String> packages;
        try (Stream<Path> dirs = Files.list(MAIN)) {
            packages = dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().toList();
        }
        assertThat(LAYER.keySet()).as("every package has a layer").containsExactlyInAnyOrderElementsOf(packages);
        for (String pkg : packages) {
            try (Stream<Path> files = Files.list(MAIN.resolve(pkg))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    String code = COMMENT.matcher(read(file)).replaceAll("");
                    Matcher m = REFERENCE.matcher(code);
                    while (m.find()) {
                        String used = m.group(1);
                        if (LAYER.containsKey(used) && !used.equals(pkg) && LAYER.get(used) <= LAYER.get(pkg)) {
                            upward.add(pkg + "/" + file.getFileName() + " uses " + used);
                        }
                    }
                }
            }
        }
        assertThat(upward).as("references against the direction of the layers").isEmpty();
    }

    @Test
    void theCheckSeesAnUpwardReference() {
        String code = COMMENT.matcher("import org.deebert.streams.topology.Topics; // org.deebert.streams.app.X")
                .replaceAll("");
        Matcher m = REFERENCE.matcher(code);
        assertThat(m.find()).isTrue();
        assertThat(m.group(1)).isEqualTo("topology");
        assertThat(m.find()).as("a reference in a comment does not count").isFalse();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
