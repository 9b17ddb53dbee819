package dev.spamtrap.smtp.tarpit;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts concurrently tarpitted connections, like spamd's {@code maxblack}: at most {@code max} in all and at
 * most {@code maxPerClient} per client, a client being one IPv4 address or one IPv6 /64. Thread-safe and
 * lock-free apart from the per-client map's bin lock; called from every SMTP event loop.
 */
public final class TarpitCapacity {
    public enum Refusal { NODE_FULL, CLIENT_FULL }

    private final int max;
    private final int maxPerClient;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> perClient = new ConcurrentHashMap<>();

    public TarpitCapacity(int max, int maxPerClient) {
        this.max = max;
        this.maxPerClient = maxPerClient;
    }

    /** A place taken; give it back exactly once with {@link #release}. */
    public static final class Ticket {
        private final String client;

        private Ticket(String client) {
            this.client = client;
        }

        public String client() {
            return client;
        }
    }

    /** The outcome of {@link #tryAcquire}: a ticket, or why not. */
    public static final class Admission {
        private final Ticket ticket;
        private final Refusal refusal;

        private Admission(Ticket ticket, Refusal refusal) {
            this.ticket = ticket;
            this.refusal = refusal;
        }

        public Optional<Ticket> ticket() {
            return Optional.ofNullable(ticket);
        }

        public Refusal refusal() {
            return refusal;
        }
    }

    public Admission tryAcquire(InetAddress address) {
        String key = clientKey(address);
        if (total.incrementAndGet() > max) {
            total.decrementAndGet();
            return new Admission(null, Refusal.NODE_FULL);
        }
        boolean[] taken = {false};
        perClient.compute(key, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= maxPerClient) {
                return n;
            }
            taken[0] = true;
            return now + 1;
        });
        if (!taken[0]) {
            total.decrementAndGet();
            return new Admission(null, Refusal.CLIENT_FULL);
        }
        return new Admission(new Ticket(key), null);
    }

    public void release(Ticket ticket) {
        perClient.computeIfPresent(ticket.client, (k, n) -> n <= 1 ? null : n - 1);
        total.decrementAndGet();
    }

    public int total() {
        return total.get();
    }

    public int ofClient(InetAddress address) {
        return perClient.getOrDefault(clientKey(address), 0);
    }

    /** An IPv4 address as itself; an IPv6 address as its /64 ({@code 2001:db8:1:2::/64}). */
    public static String clientKey(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i += 2) {
            sb.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
        }
        return sb.append(":/64").toString();
    }
}
