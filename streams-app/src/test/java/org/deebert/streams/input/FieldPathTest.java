package org.deebert.streams.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class FieldPathTest {

    @Test
    void aDottedPathSplitsIntoItsFieldNamesOutermostFirst() {
        FieldPath path = FieldPath.parse(" post.body.text ");
        assertThat(path.segments()).containsExactly("post", "body", "text");
        assertThat(path).hasToString("post.body.text");
        assertThat(path.prefix(1)).isEqualTo("post.body");
        assertThat(FieldPath.parse("text").segments()).containsExactly("text");
    }

    @Test
    void namesAreKeptAsWrittenCaseAndAll() {
        assertThat(FieldPath.parse("Post.BODY_1.text-x").segments()).containsExactly("Post", "BODY_1", "text-x");
    }

    @Test
    void anEmptySegmentAnywhereIsRefusedAndTheMessageQuotesThePath() {
        for (String bad : List.of("a..b", ".a", "a.", ".", "a.b.")) {
            assertThatThrownBy(() -> FieldPath.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("empty field name").hasMessageContaining("'" + bad + "'");
        }
        assertThatThrownBy(() -> FieldPath.parse("  ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty field path");
        assertThatThrownBy(() -> new FieldPath(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
