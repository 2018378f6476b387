package org.deebert.streams.app;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.deebert.streams.observability.HealthState;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.SchemaRegistryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the service's schema ids true to the Schema Registry. The registry client drops its cached ids when the
 * registry no longer agrees with them ({@link ConfluentSchemaRegistryClient#refresh} after a decode failure, or
 * this watch's periodic {@link ConfluentSchemaRegistryClient#verifyCache}). Then this watch marks the service
 * DEGRADED with the reason ({@code /health/ready} stays 200: records are still decoded, now with the registry's
 * schemas), counts it ({@code deebert_schema_cache_invalidations_total}), re-registers the service's own schemas
 * (so that downstream consumers can read its output again), and clears the mark at the first check that finds the
 * registry and the cache in agreement: {@value #RECHECK_SECONDS} s after the re-registration, or the next periodic
 * check. Nothing needs a restart.
 */
final class RegistryWatch implements AutoCloseable {

    /** The health source this watch degrades. */
    static final String SOURCE = "schema-registry";
    /** Seconds from a re-registration (or a failed one) to the check that may clear the DEGRADED mark. */
    static final long RECHECK_SECONDS = 5;
    private static final Logger LOG = LoggerFactory.getLogger(RegistryWatch.class);

    private final ConfluentSchemaRegistryClient registry;
    private final Runnable registerOwnSchemas;
    private final HealthState health;
    private final Runnable onInvalidation;
    private final ScheduledExecutorService executor;
    private volatile boolean reRegistered = true;
    private volatile boolean unreachable;

    private RegistryWatch(ConfluentSchemaRegistryClient registry, Runnable registerOwnSchemas, HealthState health,
                          Runnable onInvalidation) {
        this.registry = registry;
        this.registerOwnSchemas = registerOwnSchemas;
        this.health = health;
        this.onInvalidation = onInvalidation;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deebert-registry-watch");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Listens to the client's invalidations and checks the cache at {@code interval}.
     *
     * @param registry           the service's registry client (shared by all its serdes)
     * @param registerOwnSchemas registers the service's value schemas, or looks them up with
     *                           {@code auto.register.schemas=false} (throws {@link SchemaRegistryException})
     * @param health             degraded by {@link #SOURCE} while the registry and the cache disagree
     * @param onInvalidation     told of each invalidation (the metric)
     * @param interval           time between periodic checks (positive)
     * @return the running watch; close it to stop
     */
    static RegistryWatch start(ConfluentSchemaRegistryClient registry, Runnable registerOwnSchemas, HealthState health,
                               Runnable onInvalidation, Duration interval) {
        RegistryWatch watch = new RegistryWatch(registry, registerOwnSchemas, health, onInvalidation);
        registry.onInvalidation(watch::invalidated);
        watch.executor.scheduleWithFixedDelay(watch::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return watch;
    }

    private void invalidated(String reason) {
        health.degrade(SOURCE, "Schema Registry disagreed with cached schema ids (" + reason + "); cache dropped, "
                + "own schemas re-registered");
        reRegistered = false;
        onInvalidation.run();
        executor.execute(this::reRegister);
    }

    private void reRegister() {
        try {
            registerOwnSchemas.run();
            reRegistered = true;
            LOG.info("Re-registered the service's schemas after the Schema Registry disagreed with the cache");
        } catch (SchemaRegistryException e) {
            LOG.warn("Re-registering the service's schemas failed ({}); retrying in {} s", e.getMessage(), RECHECK_SECONDS);
        }
        executor.schedule(this::check, RECHECK_SECONDS, TimeUnit.SECONDS);
    }

    private void check() {
        try {
            if (!reRegistered) {
                reRegister();
                return;
            }
            Optional<String> stale = registry.verifyCache();
            if (unreachable) {
                LOG.info("Schema Registry check reaches the registry again");
                unreachable = false;
            }
            if (stale.isEmpty() && reRegistered && health.degradedBy(SOURCE)) {
                LOG.info("Schema Registry and the cached schema ids agree again");
                health.recover(SOURCE);
            }
        } catch (RuntimeException e) {
            // An exception would cancel the schedule silently; an unreachable registry is not a disagreement.
            if (!unreachable) {
                LOG.warn("Schema Registry check failed ({}); retrying at the next interval", e.toString());
                unreachable = true;
            }
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
