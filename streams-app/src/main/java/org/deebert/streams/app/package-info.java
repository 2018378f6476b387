/**
 * The service's entry points: the CLI ({@link org.deebert.streams.app.Cli}: {@code run}, {@code control},
 * {@code dead-letters}), its settings ({@link org.deebert.streams.app.AppSettings}: defaults, then the properties
 * file, then {@code DEEBERT_*} variables) and {@link org.deebert.streams.app.StreamsService}, the one place that
 * assembles the running service (topics, schemas, model pool, Kafka Streams, HTTP endpoint, telemetry). The top
 * of the one-way dependency order: app -> observability -> topology -> control, deadletter -> input -> classifier -> model,
 * budget, registry -> exit.
 */
package org.deebert.streams.app;
