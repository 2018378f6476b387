package org.deebert.streams.app;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.RegistryConnection;
import org.deebert.streams.registry.RegistryTls;
import org.deebert.streams.registry.SerializerSettings;
import org.deebert.streams.registry.SubjectNameStrategy;

/**
 * The Schema Registry keys of the settings, under Confluent's own names so that a client configuration carries
 * over: {@code basic.auth.credentials.source}, {@code basic.auth.user.info}, {@code schema.registry.ssl.*} (how to
 * reach the registry) and {@code auto.register.schemas}, {@code use.latest.version},
 * {@code key.subject.name.strategy}, {@code value.subject.name.strategy} (how serializers find schema ids). Every
 * error names its key and never shows a password.
 */
final class RegistrySettings {

    static final String CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    static final String USER_INFO = "basic.auth.user.info";
    static final String TLS_PREFIX = "schema.registry.ssl.";
    static final String AUTO_REGISTER = "auto.register.schemas";
    static final String USE_LATEST = "use.latest.version";
    static final String KEY_STRATEGY = "key.subject.name.strategy";
    static final String VALUE_STRATEGY = "value.subject.name.strategy";

    private RegistrySettings() {
    }

    /**
     * @param r   the settings
     * @param url {@code schema.registry.url}
     * @return the registry's URL, credentials and TLS context
     * @throws IllegalArgumentException naming the key: an unknown credentials source, {@code USER_INFO} without a
     *     {@code user:password}, a user info given with source {@code URL}, a trust or key store that is missing,
     *     unreadable, of an unknown type or with a wrong password
     */
    static RegistryConnection connection(SettingReader r, String url) {
        String source = r.optional(CREDENTIALS_SOURCE, "URL").toUpperCase(Locale.ROOT);
        String userInfo = r.optional(USER_INFO, "");
        Optional<String> basicAuth;
        switch (source) {
            case "URL" -> {
                if (!userInfo.isEmpty()) {
                    throw new IllegalArgumentException("setting " + USER_INFO + " is set but " + CREDENTIALS_SOURCE
                            + " is URL, so it would be ignored; set " + CREDENTIALS_SOURCE + "=USER_INFO");
                }
                basicAuth = Optional.empty();
            }
            case "USER_INFO" -> {
                if (userInfo.isEmpty()) {
                    throw new IllegalArgumentException("setting " + USER_INFO + " (env " + AppSettings.envName(USER_INFO)
                            + ") is missing: " + CREDENTIALS_SOURCE + "=USER_INFO needs user:password");
                }
                if (userInfo.indexOf(':') < 0) {
                    // The value stays out of the message: it may be a bare password.
                    throw new IllegalArgumentException("setting " + USER_INFO + " must be user:password (no ':' found)");
                }
                basicAuth = Optional.of(userInfo);
            }
            default -> throw new IllegalArgumentException("setting " + CREDENTIALS_SOURCE
                    + " must be URL or USER_INFO (SASL_INHERIT is not supported), got " + r.raw(CREDENTIALS_SOURCE));
        }
        return new RegistryConnection(url, basicAuth, sslContext(r), ConfluentSchemaRegistryClient.DEFAULT_REQUEST_TIMEOUT);
    }

    /**
     * @param r the settings
     * @return the serializer settings
     * @throws IllegalArgumentException naming the key: a boolean that is neither true nor false, an unknown strategy
     */
    static SerializerSettings serializer(SettingReader r) {
        return new SerializerSettings(r.bool(AUTO_REGISTER), r.bool(USE_LATEST), strategy(r, KEY_STRATEGY),
                strategy(r, VALUE_STRATEGY));
    }

    private static SubjectNameStrategy strategy(SettingReader r, String key) {
        try {
            return SubjectNameStrategy.parse(r.required(key));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("setting " + key + " (env " + AppSettings.envName(key) + ") "
                    + e.getMessage(), e);
        }
    }

    private static Optional<SSLContext> sslContext(SettingReader r) {
        Optional<RegistryTls.Store> trust = store(r, "truststore");
        Optional<RegistryTls.Store> keys = store(r, "keystore");
        if (trust.isEmpty() && keys.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(RegistryTls.context(trust, keys, r.optional(TLS_PREFIX + "key.password", "")));
        } catch (RegistryTls.TlsSettingException e) {
            String key = TLS_PREFIX + e.part().name().toLowerCase(Locale.ROOT).replace('_', '.');
            throw new IllegalArgumentException("setting " + key + " (env " + AppSettings.envName(key) + "): "
                    + e.getMessage(), e);
        }
    }

    /** {@code schema.registry.ssl.<kind>.location/.password/.type}; empty when no location is set. */
    private static Optional<RegistryTls.Store> store(SettingReader r, String kind) {
        String location = r.optional(TLS_PREFIX + kind + ".location", "");
        if (location.isEmpty()) {
            return Optional.empty();
        }
        String type = r.optional(TLS_PREFIX + kind + ".type", "");
        return Optional.of(new RegistryTls.Store(Path.of(location), r.optional(TLS_PREFIX + kind + ".password", ""),
                type.isEmpty() ? RegistryTls.DEFAULT_TYPE : type));
    }
}
