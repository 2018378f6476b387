package org.deebert.streams.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A self-signed key pair for a loopback HTTPS server, made at test time with the JDK's own {@code keytool}, so no
 * key material is committed. The certificate names {@code IP:127.0.0.1}, so clients keep hostname verification on.
 *
 * @param keyStore    JKS key store with the key (store password {@code storePassword}, key password
 *                    {@code keyPassword})
 * @param trustStore  PKCS12 trust store with the certificate alone (password {@code storePassword})
 * @param storePassword password of both stores
 * @param keyPassword password of the key inside the key store
 */
public record TestKeyStores(Path keyStore, Path trustStore, String storePassword, String keyPassword) {

    public static TestKeyStores generate(Path dir) throws IOException, InterruptedException {
        TestKeyStores s = new TestKeyStores(dir.resolve("server.jks"), dir.resolve("trust.p12"), "store-secret-1",
                "key-secret-2");
        keytool(dir, "-genkeypair", "-alias", "registry", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1", "-storetype", "JKS",
                "-keystore", s.keyStore.toString(), "-storepass", s.storePassword, "-keypass", s.keyPassword);
        Path cert = dir.resolve("registry.crt");
        keytool(dir, "-exportcert", "-alias", "registry", "-rfc", "-file", cert.toString(), "-storetype", "JKS",
                "-keystore", s.keyStore.toString(), "-storepass", s.storePassword);
        keytool(dir, "-importcert", "-noprompt", "-alias", "registry", "-file", cert.toString(), "-storetype", "PKCS12",
                "-keystore", s.trustStore.toString(), "-storepass", s.storePassword);
        return s;
    }

    /** @return a server-side TLS context presenting the key pair */
    public SSLContext serverContext() throws Exception {
        KeyStore ks = KeyStore.getInstance("JKS");
        try (InputStream in = Files.newInputStream(keyStore)) {
            ks.load(in, storePassword.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, keyPassword.toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return context;
    }

    private static void keytool(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("keytool.log").toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("keytool " + args[0] + " failed: " + Files.readString(dir.resolve("keytool.log")));
        }
    }
}
