package org.deebert.streams.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The table of the service's own settings: every key of the classpath defaults
 * ({@value AppSettings#DEFAULTS_RESOURCE}, which lists each key once with its default and, in the comment above
 * it, its meaning), the deprecated aliases, and the {@code DEEBERT_*} variables that are not settings. The
 * validation ({@link SettingsSources}), the environment mapping and the configuration reference
 * ({@link ConfigurationReference}) all read this one table.
 */
final class SettingKeys {

    /** Deprecated key -> the key that replaced it; the old name still works, with one WARN at start-up. */
    static final Map<String, String> DEPRECATED = Map.of(
            "max.batch.size", "classifier.batch.max.size",
            "linger.ms", "classifier.batch.linger.ms");

    /**
     * Own keys that decide a Kafka Streams setting of the same name: setting both the key and {@code kafka.<key>}
     * would leave it unclear which one is in force.
     */
    static final List<String> STREAMS_DUPLICATES = List.of(
            "application.id", "bootstrap.servers", "processing.guarantee", "num.stream.threads");

    /**
     * {@code DEEBERT_*} variables that the repository's scripts and tools read and that are not settings (the
     * launcher's home, the build, container and model-export scripts, the log format logback reads, the test
     * command's promtool requirement): present in a shell that runs the service, they are not typos.
     */
    static final Set<String> TOOL_VARIABLES = Set.of(
            "DEEBERT_HOME", "DEEBERT_REPO", "DEEBERT_BUILD_DIR", "DEEBERT_SETUP_LOG_DIR", "DEEBERT_IMAGE",
            "DEEBERT_BASE_IMAGE", "DEEBERT_DIST", "DEEBERT_VERSION", "DEEBERT_VENV", "DEEBERT_TEST_SPLIT",
            "DEEBERT_PAIR_TEST_SPLIT", "DEEBERT_MODELS_DIR", "DEEBERT_CACHE_DIR", "DEEBERT_SST2_DIR",
            "DEEBERT_LOG_FORMAT", "DEEBERT_REQUIRE_PROMTOOL");

    /** Largest edit distance at which a known key is offered as the intended one. */
    static final int SUGGESTION_DISTANCE = 2;

    private static final Pattern KEY_LINE = Pattern.compile("^([a-z][a-z0-9._-]*)=(.*)$");

    /**
     * One setting.
     *
     * @param name         the key
     * @param defaultValue its default (empty: none)
     */
    record Key(String name, String defaultValue) {
    }

    /**
     * Keys documented together: the comment block above them in the defaults file.
     *
     * @param doc  the comment's lines, without {@code #}
     * @param keys the keys, in file order
     */
    record Group(List<String> doc, List<Key> keys) {
    }

    private static final List<Group> GROUPS = read();
    private static final Map<String, Key> KEYS = index(GROUPS);

    private SettingKeys() {
    }

    /** @return the documented groups of keys, in the defaults file's order */
    static List<Group> groups() {
        return GROUPS;
    }

    /** @return every own key with its default, in file order */
    static Map<String, Key> keys() {
        return KEYS;
    }

    /** @return whether {@code key} is one of the service's own keys (not a deprecated alias) */
    static boolean isOwn(String key) {
        return KEYS.containsKey(key);
    }

    /**
     * @return whether {@code key} goes to Kafka unchanged and is therefore not checked here: {@code kafka.*} (Kafka
     *     Streams), {@code security.protocol}, {@code ssl.*} and {@code sasl.*} (every client)
     */
    static boolean isPassThrough(String key) {
        return key.startsWith(AppSettings.STREAMS_PREFIX) || SettingsSources.isClientPassThrough(key);
    }

    /**
     * @param candidate  a misspelt name
     * @param knownNames the names it may have meant
     * @return the known name nearest to {@code candidate} when it is within {@value #SUGGESTION_DISTANCE} edits
     */
    static Optional<String> nearest(String candidate, Collection<String> knownNames) {
        String best = null;
        int bestDistance = SUGGESTION_DISTANCE + 1;
        for (String known : knownNames) {
            int d = distance(candidate, known);
            if (d < bestDistance) {
                best = known;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    /** @return the Levenshtein distance between {@code a} and {@code b} */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    private static List<Group> read() {
        List<Group> groups = new ArrayList<>();
        List<String> doc = new ArrayList<>();
        List<Key> keys = new ArrayList<>();
        try (InputStream in = SettingKeys.class.getResourceAsStream(AppSettings.DEFAULTS_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(AppSettings.DEFAULTS_RESOURCE + " is not on the classpath");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                Matcher m = KEY_LINE.matcher(line);
                if (m.matches()) {
                    keys.add(new Key(m.group(1), m.group(2).trim()));
                } else if (line.startsWith("#")) {
                    if (!keys.isEmpty()) {
                        groups.add(new Group(List.copyOf(doc), List.copyOf(keys)));
                        doc.clear();
                        keys.clear();
                    }
                    doc.add(line.substring(1).startsWith(" ") ? line.substring(2) : line.substring(1));
                } else if (line.isBlank()) {
                    groups.add(new Group(List.copyOf(doc), List.copyOf(keys)));
                    doc.clear();
                    keys.clear();
                }
            }
            groups.add(new Group(List.copyOf(doc), List.copyOf(keys)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + AppSettings.DEFAULTS_RESOURCE, e);
        }
        groups.removeIf(g -> g.doc().isEmpty() && g.keys().isEmpty());
        return List.copyOf(groups);
    }

    private static Map<String, Key> index(List<Group> groups) {
        Map<String, Key> byName = new LinkedHashMap<>();
        for (Group g : groups) {
            for (Key k : g.keys()) {
                byName.put(k.name(), k);
            }
        }
        return java.util.Collections.unmodifiableMap(byName);
    }
}
