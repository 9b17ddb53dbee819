package dev.spamtrap.core.offender;

import java.time.Instant;
import java.util.Objects;

/**
 * What one trap hit tells us: who ({@code ip}, a normalised IP literal), when, which trap address, and the
 * HELO / MAIL FROM the client gave. {@code node} is the James node that saw it.
 */
public final class TrapHit {
    private final String ip;
    private final Instant at;
    private final String trap;
    private final String helo;
    private final String mailFrom;
    private final String node;

    public TrapHit(String ip, Instant at, String trap, String helo, String mailFrom, String node) {
        this.ip = Objects.requireNonNull(ip, "ip");
        this.at = Objects.requireNonNull(at, "at");
        this.trap = Objects.requireNonNull(trap, "trap");
        this.helo = helo == null ? "" : helo;
        this.mailFrom = mailFrom == null ? "" : mailFrom;
        this.node = node == null ? "" : node;
    }

    public String ip() { return ip; }
    public Instant at() { return at; }
    public String trap() { return trap; }
    public String helo() { return helo; }
    public String mailFrom() { return mailFrom; }
    public String node() { return node; }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TrapHit)) {
            return false;
        }
        TrapHit h = (TrapHit) o;
        return ip.equals(h.ip) && at.equals(h.at) && trap.equals(h.trap) && helo.equals(h.helo)
            && mailFrom.equals(h.mailFrom) && node.equals(h.node);
    }

    @Override
    public int hashCode() {
        return Objects.hash(ip, at, trap, helo, mailFrom, node);
    }

    @Override
    public String toString() {
        return "TrapHit{ip=" + ip + ", at=" + at + ", trap=" + trap + ", helo=" + helo + ", mailFrom=" + mailFrom + ", node=" + node + "}";
    }
}
