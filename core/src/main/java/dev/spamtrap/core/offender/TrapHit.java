package dev.spamtrap.core.offender;

import java.time.Instant;
import java.util.Objects;

/**
 * What one trap hit tells us: who ({@code key}, the offender key: a normalised IP literal or prefix; {@code
 * client}, the exact address that connected), when, which trap address, and the HELO / MAIL FROM the client
 * gave (each kept as {@link Evidence#clean}: no control characters, at most 256 chars). {@code node} is the James
 * node that saw it. {@code id} is the hit's identity: recording the same id
 * twice has the effect of recording it once (one offence = one id, e.g. node + SMTP session).
 */
public final class TrapHit {
    private final String id;
    private final String client;
    private final String key;
    private final Instant at;
    private final String trap;
    private final String helo;
    private final String mailFrom;
    private final String node;
    private final int generation;

    /** A hit with a fresh random identity, the client being the key itself. */
    public TrapHit(String key, Instant at, String trap, String helo, String mailFrom, String node) {
        this(java.util.UUID.randomUUID().toString(), key, key, at, trap, helo, mailFrom, node);
    }

    public TrapHit(String id, String key, String client, Instant at, String trap, String helo, String mailFrom, String node) {
        this(id, key, client, at, trap, helo, mailFrom, node, 0);
    }

    private TrapHit(String id, String key, String client, Instant at, String trap, String helo, String mailFrom, String node, int generation) {
        this.generation = generation;
        this.id = Objects.requireNonNull(id, "id");
        this.client = Objects.requireNonNull(client, "client");
        this.key = Objects.requireNonNull(key, "key");
        this.at = Objects.requireNonNull(at, "at");
        this.trap = Evidence.clean(Objects.requireNonNull(trap, "trap"));
        this.helo = Evidence.clean(helo);
        this.mailFrom = Evidence.clean(mailFrom);
        this.node = node == null ? "" : node;
    }

    public String id() { return id; }
    /** The offender key (IPv4 address, IPv6 /64 by default). */
    public String key() { return key; }
    /** The exact address of the client that sent to the trap. */
    public String client() { return client; }
    public Instant at() { return at; }
    public String trap() { return trap; }
    public String helo() { return helo; }
    public String mailFrom() { return mailFrom; }
    public String node() { return node; }
    /**
     * The client's forgive generation as the recording node knew it when the hit happened (0: never forgiven). The
     * store ignores a hit whose generation is below the client's stored one: it was made before that node knew of
     * the forgive, whatever any clock says.
     */
    public int generation() { return generation; }

    /** This hit, stamped with the forgive generation its node knew of. */
    public TrapHit withGeneration(int generation) {
        return new TrapHit(id, key, client, at, trap, helo, mailFrom, node, generation);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TrapHit)) {
            return false;
        }
        TrapHit h = (TrapHit) o;
        return id.equals(h.id) && client.equals(h.client) && key.equals(h.key) && at.equals(h.at) && trap.equals(h.trap) && helo.equals(h.helo)
            && mailFrom.equals(h.mailFrom) && node.equals(h.node) && generation == h.generation;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, client, key, at, trap, helo, mailFrom, node, generation);
    }

    @Override
    public String toString() {
        return "TrapHit{id=" + id + ", key=" + key + ", client=" + client + ", at=" + at + ", trap=" + trap + ", helo=" + helo + ", mailFrom=" + mailFrom + ", node=" + node + ", generation=" + generation + "}";
    }
}
