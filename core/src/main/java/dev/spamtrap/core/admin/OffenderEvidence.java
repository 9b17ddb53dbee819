package dev.spamtrap.core.admin;

import java.time.Instant;
import java.util.List;

/** One offender with the evidence kept in Cassandra: every recorded hit still remembered. */
public final class OffenderEvidence {
    private final OffenderSummary summary;
    private final List<Hit> hits;

    public OffenderEvidence(OffenderSummary summary, List<Hit> hits) {
        this.summary = summary;
        this.hits = List.copyOf(hits);
    }

    public OffenderSummary summary() { return summary; }
    public List<Hit> hits() { return hits; }

    /** One recorded hit. {@code client} is the exact address that connected. */
    public static final class Hit {
        private final String id;
        private final Instant at;
        private final String client;
        private final String trap;
        private final String helo;
        private final String mailFrom;
        private final String node;

        public Hit(String id, Instant at, String client, String trap, String helo, String mailFrom, String node) {
            this.id = id;
            this.at = at;
            this.client = client;
            this.trap = trap;
            this.helo = helo;
            this.mailFrom = mailFrom;
            this.node = node;
        }

        public String id() { return id; }
        public Instant at() { return at; }
        public String client() { return client; }
        public String trap() { return trap; }
        public String helo() { return helo; }
        public String mailFrom() { return mailFrom; }
        public String node() { return node; }
    }
}
