package io.modelegress.bench;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.File;
import javax.net.ssl.SSLException;

/**
 * The mock over TLS ({@code --tls-cert}, {@code --tls-key}, PEM): ALPN offers {@code h2,http/1.1}; on h2 every
 * stream gets its own {@link MockUpstreamHandler} behind Netty's stream-to-HttpObject codec, so h2 and HTTP/1.1
 * answer alike. {@code --h2-max-streams} is the {@code SETTINGS_MAX_CONCURRENT_STREAMS} it announces.
 */
final class MockH2 {
    private MockH2() {}

    static SslContext context(String cert, String key) throws SSLException {
        return SslContextBuilder.forServer(new File(cert), new File(key))
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                .build();
    }

    /** TLS first; the HTTP pipeline once ALPN has settled. */
    static void init(Channel ch, SslContext ssl, int maxStreams, MockUpstreamHandler.Behaviour behaviour, LoadStats stats) {
        SslHandler tls = ssl.newHandler(ch.alloc());
        ch.pipeline().addLast(tls);
        tls.handshakeFuture().addListener(hs -> {
            if (!hs.isSuccess()) return;
            if (!ApplicationProtocolNames.HTTP_2.equals(tls.applicationProtocol())) {
                ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new MockUpstreamHandler(behaviour, stats));
                return;
            }
            Http2Settings settings = Http2Settings.defaultSettings();
            if (maxStreams > 0) settings.maxConcurrentStreams(maxStreams);
            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings).build(),
                    new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                        @Override
                        protected void initChannel(Http2StreamChannel child) {
                            child.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                    new HttpObjectAggregator(1 << 20), new MockUpstreamHandler(behaviour, stats));
                        }
                    }));
        });
    }
}
