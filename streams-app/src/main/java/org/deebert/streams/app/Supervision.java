package org.deebert.streams.app;

import java.time.Duration;

/**
 * When the service gives up and when it checks what it relies on (the {@code topics.check.interval.ms},
 * {@code stream.thread.replacements.*} and {@code schema.registry.check.interval.ms} settings).
 *
 * @param topicsCheckInterval    how often the input, output, control and dead-letter topics are checked to still
 *                               exist with the topic id seen at start; zero = never ({@link TopicWatch})
 * @param maxThreadReplacements  most stream-thread deaths within {@code replacementWindow} that are answered by
 *                               replacing the thread; one more is fatal ({@link ThreadFailurePolicy})
 * @param replacementWindow      the sliding window those deaths are counted in
 * @param registryCheckInterval  how often the Schema Registry is asked whether every cached schema id is still
 *                               there, unchanged (positive; a decode failure also asks at once, see {@link RegistryWatch})
 */
public record Supervision(Duration topicsCheckInterval, int maxThreadReplacements, Duration replacementWindow,
                          Duration registryCheckInterval) {
}
