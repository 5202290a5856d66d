package io.modelegress.core.proxy.pac;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * DNS-based WPAD: {@code http://wpad.<domain>/wpad.dat} for the machine's domain and each parent domain, most
 * specific first, never with fewer than two labels left (never {@code wpad.com}: a name outside the organisation
 * would be trusted with every connection, the devolution attack of MS16-063). Under a public suffix of two labels
 * ({@code co.uk}) that is not enough: there, set {@code proxy.pac} to the URL instead of {@code wpad}.
 */
public final class Wpad {
    private Wpad() {}

    /**
     * @param fqdn this machine's fully qualified name, e.g. {@code build7.eu.corp.example.com}
     * @param searchDomains the resolver's search list (resolv.conf), tried after the name's own domains
     */
    public static List<String> candidates(String fqdn, List<String> searchDomains) {
        List<String> out = new ArrayList<>();
        if (fqdn != null) {
            String name = trim(fqdn);
            int dot = name.indexOf('.');
            if (dot > 0) addDomains(name.substring(dot + 1), out);
        }
        for (String d : searchDomains) addDomains(trim(d), out);
        return out;
    }

    private static void addDomains(String domain, List<String> out) {
        String d = domain;
        while (d.indexOf('.') > 0) { // at least two labels: corp.example, never a bare TLD
            String url = "http://wpad." + d + "/wpad.dat";
            if (!out.contains(url)) out.add(url);
            d = d.substring(d.indexOf('.') + 1);
        }
    }

    private static String trim(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        return t.endsWith(".") ? t.substring(0, t.length() - 1) : t;
    }
}
