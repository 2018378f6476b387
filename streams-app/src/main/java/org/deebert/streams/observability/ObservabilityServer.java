package org.deebert.streams.observability;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's HTTP endpoint:
 * <ul>
 *   <li>{@code GET /metrics}: {@link ServiceMetrics#scrape()} in the Prometheus text format 0.0.4;</li>
 *   <li>{@code GET /health/live}: 200 or 503 with a small JSON body ({@link HealthState#live()});</li>
 *   <li>{@code GET /health/ready}: 200 or 503 with a small JSON body ({@link HealthState#ready()}), e.g.
 *       {@code {"status":"DEGRADED","kafkaStreamsState":"RUNNING","reason":"..."}}.</li>
 * </ul>
 * Served by the JDK's built-in {@code com.sun.net.httpserver.HttpServer} (module {@code jdk.httpserver},
 * part of every JDK 17): three small read-only endpoints do not justify a web framework or another jar.
 */
public final class ObservabilityServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ObservabilityServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;

    private ObservabilityServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds and starts the endpoint.
     *
     * @param host    address to bind, e.g. {@code 0.0.0.0}
     * @param port    port to bind; 0 = any free port (see {@link #port()})
     * @param metrics the Prometheus text of {@code /metrics}
     * @param health  the answers of {@code /health/*}
     * @return the running server
     * @throws UncheckedIOException if the address cannot be bound (e.g. the port is taken)
     */
    public static ObservabilityServer start(String host, int port, Supplier<String> metrics, HealthState health) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the HTTP endpoint to " + host + ":" + port, e);
        }
        // Two threads: a slow scrape must not hold up a health probe.
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "deebert-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/metrics", exchange -> respond(exchange, 200,
                "text/plain; version=0.0.4; charset=utf-8", metrics.get().getBytes(StandardCharsets.UTF_8)));
        server.createContext("/health/live", exchange -> respondHealth(exchange, health.live()));
        server.createContext("/health/ready", exchange -> respondHealth(exchange, health.ready()));
        server.start();
        ObservabilityServer started = new ObservabilityServer(server, executor);
        LOG.info("HTTP endpoint on {}:{} (/metrics, /health/live, /health/ready)", host, started.port());
        return started;
    }

    /** @return the bound port (the one chosen when started with port 0) */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void respondHealth(HttpExchange exchange, HealthState.Report report) throws IOException {
        respond(exchange, report.httpStatus(), "application/json", JSON.writeValueAsBytes(report.body()));
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", contentType);
            boolean head = "HEAD".equals(exchange.getRequestMethod());
            exchange.sendResponseHeaders(status, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    /** Stops accepting requests and ends the handler threads. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
