package io.modelegress.core.proxy.pac;

/** A PAC file that cannot be used: it does not compile, throws, runs too long or allocates too much. */
public final class PacException extends Exception {
    public PacException(String message) {
        super(message);
    }

    public PacException(String message, Throwable cause) {
        super(message, cause);
    }
}
