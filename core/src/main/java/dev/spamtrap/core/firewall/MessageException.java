package dev.spamtrap.core.firewall;

/** A message that is refused: the reason says which rule it broke and, where it helps, names the bad field. */
public final class MessageException extends Exception {
    public enum Kind { OVERSIZED, MALFORMED, BAD_SIGNATURE, WRONG_AGENT, STALE, REPLAYED }

    private final Kind kind;

    public MessageException(Kind kind, String reason) {
        super(reason);
        this.kind = kind;
    }

    public Kind kind() { return kind; }
}
