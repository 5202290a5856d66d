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

    public static SslContext client(Path caBundle) throws IOException, GeneralSecurityException {
        TrustManagerFactory jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        jdk.init((KeyStore) null);
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (var tm : jdk.getTrustManagers()) {
            if (tm instanceof X509TrustManager) {
                for (X509Certificate c : ((X509TrustManager) tm).getAcceptedIssuers()) store.setCertificateEntry("jdk-" + i++, c);
            }
        }
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
