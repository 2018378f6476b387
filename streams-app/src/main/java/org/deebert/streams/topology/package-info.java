/**
 * The Kafka Streams topology and its processors: the wiring ({@link org.deebert.streams.topology.ClassifierTopology},
 * whose Javadoc draws it), the topics with their serdes ({@link org.deebert.streams.topology.Topics}), the
 * classify processor (batch buffer and flush in {@link org.deebert.streams.topology.BatchingClassifyProcessor},
 * classify-and-forward in {@link org.deebert.streams.topology.BatchForwarder}), the control topic's processor
 * into the threshold global store, the budget controller's processor, and the exception handlers that send bad
 * records to the dead-letter topic. Uses {@code control}, {@code deadletter} and {@code classifier}; only
 * {@code observability} and {@code app} use it.
 */
package org.deebert.streams.topology;
