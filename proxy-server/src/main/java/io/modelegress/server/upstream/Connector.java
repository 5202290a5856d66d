package io.modelegress.server.upstream;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * Opens a connection to an upstream, ready for HTTP/1.1 (its client codec last in the pipeline) or, when TLS picked
 * h2 by ALPN, for HTTP/2 ({@link H2Connection} last, the server's SETTINGS received). The real one
 * ({@link UpstreamConnector}) resolves, dials, tunnels and handshakes; handler-level tests hand over channels of
 * their own.
 */
public interface Connector {
    Future<Channel> connect(EventLoop loop, UpstreamConnector.Target t);
}
