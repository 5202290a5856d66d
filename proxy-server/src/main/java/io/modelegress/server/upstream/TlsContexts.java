package io.modelegress.server.upstream;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
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

    /** The context without {@code tls.ca_bundle}: the same for every config, built once (start-up warms it up). */
    private static volatile SslContext jdkOnly;

    public static SslContext client(Path caBundle) throws IOException, GeneralSecurityException {
        if (caBundle != null) return build(caBundle);
        SslContext ctx = jdkOnly;
        if (ctx != null) return ctx;
        synchronized (TlsContexts.class) {
            if (jdkOnly == null) jdkOnly = build(null);
            return jdkOnly;
        }
    }

    /** Each context this class built, and its twin that offers h2 by ALPN (same trust, same checks). */
    private static final java.util.Map<SslContext, SslContext> ALPN = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /** The twin of {@code plain} offering {@code h2,http/1.1} by ALPN; null when {@code plain} was not made here. */
    public static SslContext alpnTwin(SslContext plain) { return plain == null ? null : ALPN.get(plain); }

    private static SslContext build(Path caBundle) throws IOException, GeneralSecurityException {
        TrustManagerFactory trust = trust(caBundle);
        SslContext plain = builder(trust).build();
        ALPN.put(plain, builder(trust).applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
                io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
                io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                io.netty.handler.ssl.ApplicationProtocolNames.HTTP_2, io.netty.handler.ssl.ApplicationProtocolNames.HTTP_1_1)).build());
        return plain;
    }

    private static TrustManagerFactory trust(Path caBundle) throws IOException, GeneralSecurityException {
        TrustManagerFactory jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        jdk.init((KeyStore) null); // the JDK's CA certificates
        TrustManagerFactory trust = jdk;
        if (caBundle != null) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (var tm : jdk.getTrustManagers()) {
                if (!(tm instanceof X509TrustManager)) continue;
                for (X509Certificate c : ((X509TrustManager) tm).getAcceptedIssuers()) store.setCertificateEntry("jdk-" + i++, c);
            }
            try (InputStream in = Files.newInputStream(caBundle)) {
                Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
                if (certs.isEmpty()) throw new GeneralSecurityException("tls.ca_bundle " + caBundle + " holds no certificate");
                for (Certificate c : certs) store.setCertificateEntry("bundle-" + i++, c);
            }
            trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
        }
        return trust;
    }

    private static SslContextBuilder builder(TrustManagerFactory trust) {
        // The JDK provider, named: left to choose, Netty first probes for netty-tcnative (not shipped) on every build.
        return SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .trustManager(trust)
                .endpointIdentificationAlgorithm("HTTPS");
    }
}
