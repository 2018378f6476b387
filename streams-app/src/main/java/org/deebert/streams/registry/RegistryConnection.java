package org.deebert.streams.registry;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * How to reach the Schema Registry: its URL, HTTP Basic credentials and the TLS context of its HTTP client.
 * {@link #toString()} never shows a password (neither {@link #basicAuthUserInfo()}'s nor one in the URL's
 * user-info), so the object may be logged.
 *
 * @param url               the API root, e.g. {@code https://registry:8081} or
 *                          {@code http://127.0.0.1:8081/apis/ccompat/v7}; its user-info part, if any, is the
 *                          credentials when {@code basicAuthUserInfo} is empty (Confluent's
 *                          {@code basic.auth.credentials.source=URL})
 * @param basicAuthUserInfo {@code user:password} sent as HTTP Basic credentials instead of the URL's user-info
 *                          (Confluent's {@code basic.auth.credentials.source=USER_INFO} with
 *                          {@code basic.auth.user.info}); empty to use the URL's
 * @param sslContext        the TLS context of the registry's HTTP client only (trust store, key store); empty for the
 *                          JVM's default context
 * @param requestTimeout    limit for connecting and for each request's response
 */
public record RegistryConnection(String url, Optional<String> basicAuthUserInfo, Optional<SSLContext> sslContext,
                                 Duration requestTimeout) {

    /**
     * @throws NullPointerException     if any argument is null
     * @throws IllegalArgumentException if {@code basicAuthUserInfo} has no {@code :} between user and password
     */
    public RegistryConnection {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(basicAuthUserInfo, "basicAuthUserInfo");
        Objects.requireNonNull(sslContext, "sslContext");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        if (basicAuthUserInfo.isPresent() && basicAuthUserInfo.get().indexOf(':') < 0) {
            // The value itself stays out of the message: it may be a password typed into the wrong key.
            throw new IllegalArgumentException("basic auth user info must be user:password");
        }
    }

    /**
     * @param url the API root, with credentials in its user-info part if the registry needs them
     * @return a connection with the URL's credentials (if any), the JVM's TLS context and
     *     {@link ConfluentSchemaRegistryClient#DEFAULT_REQUEST_TIMEOUT}
     */
    public static RegistryConnection of(String url) {
        return new RegistryConnection(url, Optional.empty(), Optional.empty(),
                ConfluentSchemaRegistryClient.DEFAULT_REQUEST_TIMEOUT);
    }

    /** @return the URL, user-info replaced by {@code ***}; the URL as given when it does not parse */
    public String redactedUrl() {
        try {
            URI u = URI.create(url);
            return u.getRawUserInfo() == null ? url : url.replace(u.getRawUserInfo() + "@", "***@");
        } catch (IllegalArgumentException e) {
            int at = url.indexOf('@');
            int scheme = url.indexOf("://");
            return at > scheme && scheme >= 0 ? url.substring(0, scheme + 3) + "***" + url.substring(at) : url;
        }
    }

    /** @return the URL without secrets, where credentials come from (user name only) and which TLS context is used */
    @Override
    public String toString() {
        String auth = basicAuthUserInfo.map(info -> "user-info (user " + info.substring(0, info.indexOf(':')) + ")")
                .orElse(redactedUrl().contains("***@") ? "URL user-info" : "none");
        return "RegistryConnection[url=" + redactedUrl() + ", basicAuth=" + auth + ", tls="
                + (sslContext.isPresent() ? "registry's own trust/key stores" : "JVM default") + ", requestTimeout="
                + requestTimeout + "]";
    }
}
