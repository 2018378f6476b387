package org.deebert.streams.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the TLS context of the Schema Registry's HTTP client from a trust store (which registry certificates to
 * trust) and a key store (this client's certificate, for registries that ask for one), as Confluent's
 * {@code schema.registry.ssl.truststore.*} / {@code schema.registry.ssl.keystore.*} settings describe them. The
 * context applies to the registry client only; the Kafka clients and the rest of the JVM keep theirs.
 *
 * <p>Every failure is a {@link TlsSettingException} whose {@link TlsSettingException#part()} says which setting is
 * wrong, so the caller can name its key; messages never contain a password.
 */
public final class RegistryTls {

    /** Store type when none is given: Kafka's and Confluent's default. */
    public static final String DEFAULT_TYPE = "JKS";

    private RegistryTls() {
    }

    /**
     * A key store or trust store file.
     *
     * @param location the file
     * @param password its password, or null/empty for a store without one (a trust store read without a password is
     *                 not checked for integrity)
     * @param type     {@code JKS}, {@code PKCS12} or another {@link KeyStore} type of this JVM
     */
    public record Store(Path location, String password, String type) {
        /** @return the password as chars, or null for a store without one */
        private char[] passwordChars() {
            return password == null || password.isEmpty() ? null : password.toCharArray();
        }

        @Override
        public String toString() {
            return "Store[" + location + ", type " + type + ", password " + (password == null || password.isEmpty()
                    ? "none" : "***") + "]";
        }
    }

    /** Which setting a TLS failure is about. */
    public enum Part {
        TRUSTSTORE_LOCATION, TRUSTSTORE_PASSWORD, TRUSTSTORE_TYPE,
        KEYSTORE_LOCATION, KEYSTORE_PASSWORD, KEYSTORE_TYPE, KEY_PASSWORD
    }

    /** A trust store, key store or key could not be used; {@link #part()} says which setting to fix. */
    public static final class TlsSettingException extends IllegalArgumentException {
        private final Part part;

        TlsSettingException(Part part, String message, Throwable cause) {
            super(message, cause);
            this.part = part;
        }

        /** @return which setting is wrong */
        public Part part() {
            return part;
        }
    }

    /**
     * @param trustStore  the registry certificates to trust, or empty for the JVM's default trust
     * @param keyStore    this client's key and certificate, or empty for none
     * @param keyPassword the key's password when it differs from the key store's, or null/empty to use the key
     *                    store's
     * @return a TLS context for the registry's HTTP client
     * @throws TlsSettingException when a file is missing or unreadable, a password is wrong, a type unknown, or a
     *     store holds nothing usable
     */
    public static SSLContext context(Optional<Store> trustStore, Optional<Store> keyStore, String keyPassword) {
        try {
            TrustManagerFactory trust = null;
            if (trustStore.isPresent()) {
                KeyStore store = load(trustStore.get(), Part.TRUSTSTORE_LOCATION, Part.TRUSTSTORE_PASSWORD,
                        Part.TRUSTSTORE_TYPE);
                if (store.size() == 0) {
                    throw new TlsSettingException(Part.TRUSTSTORE_LOCATION,
                            "trust store " + trustStore.get().location() + " holds no certificate", null);
                }
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(store);
            }
            KeyManagerFactory keys = null;
            if (keyStore.isPresent()) {
                Store ks = keyStore.get();
                KeyStore store = load(ks, Part.KEYSTORE_LOCATION, Part.KEYSTORE_PASSWORD, Part.KEYSTORE_TYPE);
                char[] password = keyPassword != null && !keyPassword.isEmpty() ? keyPassword.toCharArray()
                        : ks.passwordChars();
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                try {
                    keys.init(store, password == null ? new char[0] : password);
                } catch (UnrecoverableKeyException e) {
                    throw new TlsSettingException(Part.KEY_PASSWORD,
                            "cannot read the key in key store " + ks.location() + ": wrong key password", e);
                }
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(),
                    null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new TlsSettingException(keyStore.isPresent() ? Part.KEYSTORE_LOCATION : Part.TRUSTSTORE_LOCATION,
                    "cannot build the registry's TLS context: " + e.getMessage(), e);
        }
    }

    private static KeyStore load(Store store, Part location, Part password, Part type) {
        if (!Files.isRegularFile(store.location())) {
            throw new TlsSettingException(location, "file " + store.location() + " does not exist", null);
        }
        if (!Files.isReadable(store.location())) {
            throw new TlsSettingException(location, "file " + store.location() + " cannot be read", null);
        }
        KeyStore keyStore;
        try {
            keyStore = KeyStore.getInstance(store.type());
        } catch (KeyStoreException e) {
            throw new TlsSettingException(type, "store type " + store.type() + " is not supported by this JVM"
                    + " (JKS and PKCS12 are)", e);
        }
        try (InputStream in = Files.newInputStream(store.location())) {
            keyStore.load(in, store.passwordChars());
            return keyStore;
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new TlsSettingException(password, "wrong password for " + store.location(), e);
            }
            // A store of another type than the one named fails here too, with an unhelpful format error.
            throw new TlsSettingException(location, "cannot read " + store.location() + " as a " + store.type()
                    + " store (wrong type or password?): " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new TlsSettingException(location, "cannot read " + store.location() + ": " + e.getMessage(), e);
        }
    }
}
