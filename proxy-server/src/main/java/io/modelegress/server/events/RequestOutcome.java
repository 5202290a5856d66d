package io.modelegress.server.events;

/** How an agent request ended: the {@code outcome} label of {@code egress_requests_total}. */
public enum RequestOutcome {
    /** The upstream's answer went out whole (whatever its status). */
    OK("ok"),
    /** The sidecar answered with its own error (before or after the commit point). */
    ERROR("error"),
    /** The agent went away first. */
    CANCELLED("cancelled");

    private final String tag;

    RequestOutcome(String tag) { this.tag = tag; }

    public String tag() { return tag; }
}
