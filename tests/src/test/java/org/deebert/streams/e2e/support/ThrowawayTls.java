package org.deebert.streams.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed TLS key pair for a loopback broker, made at test time with the JDK's own
 * {@code keytool} (from {@code java.home}), so that no key material is ever committed. The
 * certificate names {@code IP:127.0.0.1} and {@code DNS:localhost}, so clients keep hostname
 * verification on. Both stores are PKCS12 with one random password.
 *
 * @param keyStore      the broker's key and certificate
 * @param trustStore    the certificate alone, for clients
 * @param password      password of both stores and the key
 */
public record ThrowawayTls(Path keyStore, Path trustStore, String password) {

    private static final long KEYTOOL_TIMEOUT_S = 60;

    /**
     * Generates a fresh key pair and both stores under {@code dir}.
     *
     * @param dir a (temporary) directory
     * @return the stores
     * @throws IllegalStateException if keytool fails or runs past its time limit
     */
    public static ThrowawayTls generate(Path dir) {
        byte[] secret = new byte[12];
        new SecureRandom().nextBytes(secret);
        String password = HexFormat.of().formatHex(secret);
        Path keyStore = dir.resolve("broker.keystore.p12");
        Path cert = dir.resolve("broker.crt");
        Path trustStore = dir.resolve("client.truststore.p12");
        keytool(dir, "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost, OU=deebert-e2e", "-ext", "SAN=IP:127.0.0.1,DNS:localhost",
                "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", password, "-keypass", password);
        keytool(dir, "-exportcert", "-alias", "broker", "-rfc", "-file", cert.toString(),
                "-keystore", keyStore.toString(), "-storepass", password);
        keytool(dir, "-importcert", "-noprompt", "-alias", "broker", "-file", cert.toString(),
                "-storetype", "PKCS12", "-keystore", trustStore.toString(), "-storepass", password);
        return new ThrowawayTls(keyStore, trustStore, password);
    }

    private static void keytool(Path dir, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Path log = dir.resolve("keytool.log");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!p.waitFor(KEYTOOL_TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("keytool " + args[0] + " did not finish within " + KEYTOOL_TIMEOUT_S + " s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("keytool " + args[0] + " failed (exit " + p.exitValue() + "): "
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run keytool", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
    }
}
