/**
 * What an operator sees of a running instance: {@code /metrics} (Micrometer, Prometheus text format),
 * {@code /health/live} and {@code /health/ready} ({@link org.deebert.streams.observability.ObservabilityServer},
 * {@link org.deebert.streams.observability.HealthState}) and the exit-telemetry records one instance publishes
 * per interval ({@link org.deebert.streams.observability.ExitTelemetryPublisher}). Reads the topology's state;
 * nothing below it reads this package.
 */
package org.deebert.streams.observability;
