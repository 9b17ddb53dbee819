package dev.spamtrap.agent.backend;

/** A firewall command failed; the message quotes the command and what it printed. */
public final class BackendException extends Exception {
    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
