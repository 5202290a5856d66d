package io.modelegress.server.upstream;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The client TLS context for upstreams (and https proxies): the JDK trust store plus {@code tls.ca_bundle}
 * (corporate TLS-inspecting proxies re-sign traffic with their own CA), hostname verification on.
 */
public final class TlsContexts {
    private TlsContexts() {}

    /** The JDK's trusted CAs, read once per process (a few hundred ms: start-up warms it up in the background). */
    private static volatile X509Certificate[] jdkIssuers;

    public static X509Certificate[] jdkIssuers() throws GeneralSecurityException {
        X509Certificate[] certs = jdkIssuers;
        if (certs != null) return certs;
        synchronized (TlsContexts.class) {
            if (jdkIssuers == null) {
                TrustManagerFactory jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                jdk.init((KeyStore) null);
                java.util.List<X509Certificate> all = new java.util.ArrayList<>();
                for (var tm : jdk.getTrustManagers()) {
                    if (tm instanceof X509TrustManager) all.addAll(java.util.List.of(((X509TrustManager) tm).getAcceptedIssuers()));
                }
                jdkIssuers = all.toArray(new X509Certificate[0]);
            }
            return jdkIssuers;
        }
    }

    public static SslContext client(Path caBundle) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (X509Certificate c : jdkIssuers()) store.setCertificateEntry("jdk-" + i++, c);
        if (caBundle != null) {
            try (InputStream in = Files.newInputStream(caBundle)) {
                Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
                if (certs.isEmpty()) throw new GeneralSecurityException("tls.ca_bundle " + caBundle + " holds no certificate");
                for (Certificate c : certs) store.setCertificateEntry("bundle-" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return SslContextBuilder.forClient()
                .trustManager(tmf)
                .endpointIdentificationAlgorithm("HTTPS")
                .build();
    }
}
