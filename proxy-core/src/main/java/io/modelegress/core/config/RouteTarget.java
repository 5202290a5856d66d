package io.modelegress.core.config;

/** One entry of a route's upstream list: the upstream, and the {@code model} to rewrite to (null = keep). */
public record RouteTarget(String upstream, String model) {
}
