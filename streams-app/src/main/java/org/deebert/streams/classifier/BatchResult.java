package org.deebert.streams.classifier;

import java.util.List;

/**
 * Classifications of one call plus its cost.
 *
 * @param classifications one per input, in input order
 * @param stats           layers run, exit histogram and time of the call
 */
public record BatchResult(List<Classification> classifications, BatchStats stats) {
    /** Copies the list so the result is immutable. */
    public BatchResult {
        classifications = List.copyOf(classifications);
    }
}
