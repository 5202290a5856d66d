package io.modelegress.server.upstream;

import io.modelegress.core.config.DnsSettings;
import io.modelegress.core.config.HostPort;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.time.Durations;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Asynchronous name resolution on the caller's event loop (never blocking it), with a limit, telling a name that
 * does not exist ({@code dns_resolution_failed}) from a resolver that does not answer ({@code dns_timeout}).
 * Static {@code dns.hosts} entries and IP literals skip the resolver.
 */
public final class Dns {
    private final DnsSettings settings;
    private final Class<? extends DatagramChannel> datagramChannel;
    private final Duration queryTimeout;
    private final FastThreadLocal<DnsNameResolver> resolvers = new FastThreadLocal<>() {
        @Override
        protected void onRemoval(DnsNameResolver r) { r.close(); }
    };
    private final List<DnsNameResolver> all = new ArrayList<>();

    public Dns(DnsSettings settings, Class<? extends DatagramChannel> datagramChannel, Duration queryTimeout) {
        this.settings = settings;
        this.datagramChannel = datagramChannel;
        this.queryTimeout = queryTimeout;
    }

    /** Resolves {@code host} on {@code loop}; fails with a classified {@link EgressException} within {@code limitNanos}. */
    public Future<InetAddress> resolve(EventLoop loop, String host, long limitNanos, String limitKey, Duration configured) {
        Promise<InetAddress> p = loop.newPromise();
        String override = settings.hosts().get(host.toLowerCase(Locale.ROOT));
        byte[] literal = NetUtil.createByteArrayFromIpAddressString(override != null ? override : host);
        if (literal != null) {
            try {
                return p.setSuccess(InetAddress.getByAddress(host, literal));
            } catch (UnknownHostException e) {
                return p.setFailure(e);
            }
        }
        DnsNameResolver resolver = resolverFor(loop);
        Future<InetAddress> f = resolver.resolve(host);
        ScheduledFuture<?> timer = loop.schedule(() -> {
            p.tryFailure(new EgressException(ErrorCode.DNS_TIMEOUT, "DNS lookup of " + host + " got no answer within "
                    + Durations.format(configured) + " (" + limitKey + ")" + servers()));
        }, limitNanos, TimeUnit.NANOSECONDS);
        f.addListener(done -> {
            timer.cancel(false);
            if (done.isSuccess()) {
                p.trySuccess(f.getNow());
            } else if (isTimeout(done.cause())) {
                p.tryFailure(new EgressException(ErrorCode.DNS_TIMEOUT, "DNS lookup of " + host
                        + " got no answer within " + Durations.format(queryTimeout) + " (timeouts.dns)" + servers()));
            } else {
                p.tryFailure(new EgressException(ErrorCode.DNS_RESOLUTION_FAILED, "the name " + host
                        + " does not resolve" + servers()));
            }
        });
        return p;
    }

    private String servers() {
        return settings.servers().isEmpty() ? " (resolvers from /etc/resolv.conf)" : " (dns.servers " + settings.servers() + ")";
    }

    private static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof DnsNameResolverTimeoutException) return true;
        }
        return false;
    }

    private DnsNameResolver resolverFor(EventLoop loop) {
        DnsNameResolver r = resolvers.get();
        if (r != null) return r;
        DnsNameResolverBuilder b = new DnsNameResolverBuilder(loop)
                .datagramChannelType(datagramChannel)
                .queryTimeoutMillis(Math.max(1, queryTimeout.toMillis()))
                .maxQueriesPerResolve(4);
        if (!settings.servers().isEmpty()) {
            List<InetSocketAddress> addrs = new ArrayList<>();
            for (HostPort hp : settings.servers()) addrs.add(new InetSocketAddress(hp.host(), hp.port()));
            b.nameServerProvider(new SequentialDnsServerAddressStreamProvider(addrs));
        } else {
            b.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
        }
        r = b.build();
        resolvers.set(r);
        synchronized (all) {
            all.add(r);
        }
        return r;
    }

    public void close() {
        synchronized (all) {
            for (DnsNameResolver r : all) r.close();
            all.clear();
        }
    }
}
