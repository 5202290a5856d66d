package io.modelegress.server.upstream;

import io.modelegress.core.config.ProxySettings;
import io.modelegress.core.config.UpstreamSettings;
import java.util.Map;

/** Placeholder until proxy selection lands: every upstream is reached directly. */
public final class ProxyPlanner {
    public ProxyPlanner(ProxySettings settings, Map<String, String> env) {}

    public ProxyHop hopFor(UpstreamSettings u) { return null; }

    /** A proxy URL with its password hidden. */
    public String mask(String proxyUrl) { return proxyUrl.replaceAll("//([^:@/]+):[^@/]*@", "//$1:***@"); }
}
