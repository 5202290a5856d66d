package io.modelegress.core.config;

/** An upstream's credential: the header it goes in and where its value comes from. */
public record AuthSettings(String header, SecretSource value) {
}
