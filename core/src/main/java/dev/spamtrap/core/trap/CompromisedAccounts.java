package dev.spamtrap.core.trap;

import dev.spamtrap.core.offender.Evidence;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Authenticated users who sent to a trap, by account: the strongest sign an account's password is in a spammer's
 * hands. Kept in memory on this node only (lost at restart, not shared between nodes; the {@code exempt-hit} event
 * line and the {@code spamtrap_exempt_hits_authenticated} metric are the durable record). At most
 * {@value #MAX_ACCOUNTS} accounts; the one seen least recently is forgotten first.
 *
 * <p>Thread-safe; {@link #record} takes a short lock that never waits on I/O (safe on an SMTP event loop).
 */
public final class CompromisedAccounts {
    static final int MAX_ACCOUNTS = 10_000;

    /** One account's trap hits as this node saw them. */
    public static final class Account {
        private final String account;
        private final long hits;
        private final Instant firstHit;
        private final Instant lastHit;
        private final String lastClient;
        private final String lastTrap;

        Account(String account, long hits, Instant firstHit, Instant lastHit, String lastClient, String lastTrap) {
            this.account = account;
            this.hits = hits;
            this.firstHit = firstHit;
            this.lastHit = lastHit;
            this.lastClient = lastClient;
            this.lastTrap = lastTrap;
        }

        public String account() { return account; }
        public long hits() { return hits; }
        public Instant firstHit() { return firstHit; }
        public Instant lastHit() { return lastHit; }
        public String lastClient() { return lastClient; }
        public String lastTrap() { return lastTrap; }
    }

    private final Clock clock;
    private final Map<String, Account> accounts = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Account> eldest) {
            return size() > MAX_ACCOUNTS;
        }
    };

    public CompromisedAccounts(Clock clock) {
        this.clock = clock;
    }

    /** {@code account} (the authenticated login) from {@code client} sent to {@code trap}. */
    public void record(String account, String client, String trap) {
        String name = Evidence.clean(account);
        Instant now = clock.instant();
        synchronized (accounts) {
            Account old = accounts.get(name);
            accounts.put(name, old == null
                ? new Account(name, 1, now, now, client, Evidence.clean(trap))
                : new Account(name, old.hits + 1, old.firstHit, now, client, Evidence.clean(trap)));
        }
    }

    /** Every account, the most recent hit first. */
    public List<Account> list() {
        List<Account> all;
        synchronized (accounts) {
            all = new ArrayList<>(accounts.values());
        }
        all.sort(Comparator.comparing(Account::lastHit).reversed().thenComparing(Account::account));
        return all;
    }

    /** Forgets an account (the administrator has dealt with it); true if it was listed. */
    public boolean forget(String account) {
        synchronized (accounts) {
            return accounts.remove(account) != null;
        }
    }
}
