package io.modelegress.core.config;

import java.nio.file.Path;

/** The {@code tls} block: extra trusted CAs (PEM) on top of the JDK trust store; null = none. */
public record TlsSettings(Path caBundle) {
}
