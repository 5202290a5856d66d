package io.modelegress.core.proxy.pac;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a PAC script may learn about the world: name resolution, this machine's addresses and the time. Injected so
 * tests drive them ({@code FakeDns}-style); the system one blocks on DNS, which is why PAC calls never run on an
 * event loop.
 */
public interface PacHost {
    /** Every address of {@code host} as text, IPv4 first; empty when it does not resolve. */
    List<String> resolve(String host);

    /** This machine's non-loopback addresses as text, IPv4 first; may be empty. */
    List<String> myAddresses();

    /** Now, in the local zone (the GMT variants convert). */
    ZonedDateTime now();

    PacHost SYSTEM = new PacHost() {
        @Override
        public List<String> resolve(String host) {
            try {
                return texts(List.of(InetAddress.getAllByName(host)));
            } catch (UnknownHostException | SecurityException e) {
                return List.of();
            }
        }

        @Override
        public List<String> myAddresses() {
            List<InetAddress> out = new ArrayList<>();
            try {
                for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    if (!ni.isUp() || ni.isLoopback()) continue;
                    for (InetAddress a : Collections.list(ni.getInetAddresses())) if (!a.isLinkLocalAddress()) out.add(a);
                }
            } catch (Exception e) {
                return List.of();
            }
            return texts(out);
        }

        @Override
        public ZonedDateTime now() {
            return ZonedDateTime.now();
        }
    };

    static List<String> texts(List<InetAddress> addresses) {
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (InetAddress a : addresses) {
            String text = a.getHostAddress();
            int zone = text.indexOf('%');
            (a instanceof Inet4Address ? v4 : v6).add(zone < 0 ? text : text.substring(0, zone));
        }
        v4.addAll(v6);
        return v4;
    }
}
