package dev.spamtrap.core.firewall;

import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The James side of the firewall channel. Commands are put on a bounded queue (never blocking the caller,
 * which may be an SMTP or driver thread) and sent by this client's own thread, what is queued together in one
 * message of up to {@link WireFormat#MAX_COMMANDS} commands under one HMAC, signed afresh on every attempt (a retry
 * with the old timestamp and nonce would rightly be refused as a replay). Connection
 * failures and timeouts are retried with exponential backoff, a bounded number of times; a command that
 * still cannot be delivered, or that overflows the queue, is dropped with a warning: the agent rebuilds its
 * sets from Cassandra at start and reconciles periodically, so a lost command is repaired, not lost for good.
 * A command the agent refuses ({@code ERR <nonce>/<i>}, or {@code ERR <nonce>} for its whole message) is logged and
 * not retried. A reply that is no verdict ({@code BUSY}, or {@code ERR -} about the connection rather than the
 * message) is retried like a connection failure and never counted as a refusal. The connection is kept open
 * between commands (the agent counts it as a proven client and never closes it to make room for others) and
 * pipelined: up to {@link #WINDOW} commands are in flight, so that the agent applies what arrives together as one
 * transaction. The timeout is on progress (a reply within {@code timeout} while commands are in flight): a busy
 * agent slows the client down.
 */
public final class FirewallClient implements OffenderListener, AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(FirewallClient.class);
    /**
     * Commands in flight on the connection at most (the agent reads up to 50,000 ahead of its replies): twice the
     * agent's default transaction (batch.size 20,000), so that while it applies one the next is already there.
     */
    static final int WINDOW = 40_000;

    /** Tunables; the defaults suit a James node. */
    public static final class Options {
        int queueCapacity = 10_000;
        int maxAttempts = 5;
        Duration initialBackoff = Duration.ofMillis(200);
        Duration maxBackoff = Duration.ofSeconds(5);
        Duration timeout = Duration.ofSeconds(2);

        public Options queueCapacity(int n) { this.queueCapacity = n; return this; }
        public Options maxAttempts(int n) { this.maxAttempts = n; return this; }
        public Options initialBackoff(Duration d) { this.initialBackoff = d; return this; }
        public Options maxBackoff(Duration d) { this.maxBackoff = d; return this; }
        public Options timeout(Duration d) { this.timeout = d; return this; }
    }

    private final AgentEndpoint endpoint;
    private final MessageCodec codec;
    private final Clock clock;
    private final Options options;
    private final BlockingQueue<FirewallCommand> queue;
    private final Thread worker;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private volatile boolean reachable;
    private volatile long breakerOpenSeenAt;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong overflowLogged = new AtomicLong();
    private volatile boolean closed;
    private final Predicate<String> spared;
    private final AtomicLong spareCount = new AtomicLong();
    private final AtomicLong weakCount = new AtomicLong();
    private AgentConnection connection;

    /** A client that blocks every offender it is told of. */
    public FirewallClient(AgentEndpoint endpoint, FirewallKey key, Clock clock, Options options) {
        this(endpoint, key, clock, options, offenderKey -> false);
    }

    /**
     * @param spared offender keys never to block: true for a key whose range covers an allowlisted address or a trusted
     *               relay, or a non-global source (see {@code Spamtrap#isSpared}). Asked on the caller's thread; must not block.
     */
    public FirewallClient(AgentEndpoint endpoint, FirewallKey key, Clock clock, Options options, Predicate<String> spared) {
        this.spared = spared;
        this.endpoint = endpoint;
        this.codec = new MessageCodec(key);
        this.clock = clock;
        this.options = options;
        this.queue = new ArrayBlockingQueue<>(options.queueCapacity);
        this.worker = new Thread(this::run, "spamtrap-firewall-client");
        this.worker.setDaemon(true);
        this.worker.start();
    }

    /**
     * The client for {@code firewall.agent} and {@code firewall.keyFile} of the spamtrap configuration.
     *
     * @throws ConfigException when firewall.agent is not set or bad, or the key is missing or weak
     */
    public static FirewallClient fromConfig(SpamtrapConfig config, Predicate<String> spared) {
        String source = config.source().toString();
        String spec = config.firewallAgent()
            .orElseThrow(() -> ConfigException.atKey(source, "firewall.agent", "is not set"));
        AgentEndpoint endpoint;
        try {
            endpoint = AgentEndpoint.parse(spec);
        } catch (IllegalArgumentException e) {
            throw ConfigException.atKey(source, "firewall.agent", e.getMessage());
        }
        FirewallKey key = FirewallKey.load(config.firewallKeyFile()
            .orElseThrow(() -> ConfigException.atKey(source, "firewall.keyFile", "is required when firewall.agent is set")));
        LOGGER.info("Firewall agent client sending to {}", endpoint);
        return new FirewallClient(endpoint, key, Clock.systemUTC(), new Options().timeout(config.firewallTimeout()), spared);
    }

    @Override
    public void offenderRecorded(Offender offender) {
        if (offender.cause().isWeak()) {
            weakCount.incrementAndGet();
            return; // a protocol sensor's listing (or an observed one) is tarpitted or refused at SMTP only, never blocked at the firewall
        }
        if (spared.test(offender.key())) {
            spareCount.incrementAndGet();
            LOGGER.info("Not sending offender {} to the firewall agent: it covers an allowlisted address or a trusted relay, or is not a global address",
                WireFormat.printable(offender.key()));
            return;
        }
        long ttl = (offender.expiresAt().toEpochMilli() - clock.millis() + 999) / 1000;
        if (ttl < 1) {
            return;
        }
        try {
            submit(FirewallCommand.block(offender.key(), Math.min(ttl, FirewallCommand.MAX_TTL_SECONDS)));
        } catch (IllegalArgumentException e) {
            LOGGER.warn("Not sending offender {} to the firewall agent: {}", WireFormat.printable(offender.key()), e.getMessage());
        }
    }

    @Override
    public void offenderRemoved(String key) {
        try {
            submit(FirewallCommand.unblock(key));
        } catch (IllegalArgumentException e) {
            LOGGER.warn("Not sending unblock of {} to the firewall agent: {}", WireFormat.printable(key), e.getMessage());
        }
    }

    /** Queues a command; never blocks. Returns false when the queue is full or the client closed (the command is dropped). */
    public boolean submit(FirewallCommand command) {
        if (closed) {
            return false;
        }
        if (queue.offer(command)) {
            return true;
        }
        dropped.incrementAndGet();
        long now = System.nanoTime();
        long last = overflowLogged.get();
        if (now - last > TimeUnit.SECONDS.toNanos(10) && overflowLogged.compareAndSet(last, now)) {
            LOGGER.warn("Firewall agent queue full ({} commands): dropping {} (dropped so far: {}); the agent's reconcile from Cassandra will catch up",
                options.queueCapacity, command, dropped.get());
        }
        return false;
    }

    /** A command on its way, and how many attempts to deliver it failed. */
    private static final class Pending {
        final FirewallCommand command;
        int failures;

        Pending(FirewallCommand command) {
            this.command = command;
        }
    }

    /** One signed message on the connection: its commands, its nonce, and the refusals of single commands read so far. */
    private static final class Message {
        final List<Pending> commands;
        final String nonce;
        int refused;

        Message(List<Pending> commands, String nonce) {
            this.commands = commands;
            this.nonce = nonce;
        }
    }

    /** Commands in the messages of {@code inFlight}. Worker thread only. */
    private int inFlightCommands;

    /**
     * Keeps up to {@link #WINDOW} commands in flight on one connection: signs whatever is queued into messages of up
     * to {@link WireFormat#MAX_COMMANDS} commands (one HMAC each) and writes them while reading the replies that have
     * arrived, so that the agent sees many commands at once and applies them as one transaction. A reply must come
     * within the timeout while commands are in flight (a busy agent that makes progress is waited for); otherwise,
     * and on a reply that is no verdict, the connection is closed and every command still in flight is sent again,
     * in new messages signed afresh, after a backoff; after {@code maxAttempts} failures a command is dropped.
     */
    private void run() {
        ArrayDeque<Message> inFlight = new ArrayDeque<>();
        ArrayDeque<Pending> again = new ArrayDeque<>();
        List<Pending> toSend = new ArrayList<>();
        long backoff = options.initialBackoff.toMillis();
        while (!closed) {
            try {
                if (inFlight.isEmpty() && again.isEmpty() && toSend.isEmpty()) {
                    FirewallCommand first = queue.poll(500, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    toSend.add(new Pending(first));
                }
                while (inFlightCommands + toSend.size() < WINDOW) {
                    Pending next = again.poll();
                    if (next == null) {
                        FirewallCommand c = queue.poll();
                        if (c == null) {
                            break;
                        }
                        next = new Pending(c);
                    }
                    toSend.add(next);
                }
                try {
                    if (connection == null) {
                        connection = AgentConnection.open(endpoint, options.timeout);
                    }
                    if (!toSend.isEmpty()) {
                        send(toSend, inFlight);
                        reachable = true;
                        toSend.clear();
                    }
                    // wait for a reply only when there is nothing more to send now
                    boolean wait = inFlightCommands >= WINDOW || (queue.isEmpty() && again.isEmpty());
                    if (readReplies(inFlight, wait)) {
                        backoff = options.initialBackoff.toMillis();
                    }
                } catch (IOException e) {
                    reachable = !(e instanceof java.net.ConnectException) && connection != null;
                    closeConnection();
                    List<Pending> retry = new ArrayList<>();
                    for (Message m : inFlight) {
                        retry.addAll(m.commands);
                    }
                    retry.addAll(again);
                    retry.addAll(toSend);
                    again.clear();
                    again.addAll(retry);
                    inFlight.clear();
                    inFlightCommands = 0;
                    toSend.clear();
                    int droppedNow = 0;
                    for (java.util.Iterator<Pending> it = again.iterator(); it.hasNext(); ) {
                        Pending f = it.next();
                        if (++f.failures >= options.maxAttempts) {
                            it.remove();
                            droppedNow++;
                        }
                    }
                    if (droppedNow > 0) {
                        dropped.addAndGet(droppedNow);
                        LOGGER.warn("Firewall agent {} unreachable after {} attempts: dropping {} command(s); the agent's reconcile from Cassandra will "
                            + "restore them", endpoint, options.maxAttempts, droppedNow);
                    }
                    if (!again.isEmpty() && !closed) {
                        LOGGER.warn("Firewall agent {} unreachable ({}); {} command(s) sent again in {} ms", endpoint, e.getMessage(), again.size(), backoff);
                        Thread.sleep(backoff);
                        backoff = Math.min(backoff * 2, options.maxBackoff.toMillis());
                    }
                }
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                LOGGER.error("Firewall agent client: unexpected error, continuing", e);
            }
        }
        closeConnection();
    }

    /** Signs the commands into messages of at most {@link WireFormat#MAX_COMMANDS} and writes them in one go. */
    private void send(List<Pending> toSend, ArrayDeque<Message> inFlight) throws IOException {
        List<byte[]> encoded = new ArrayList<>();
        List<Message> messages = new ArrayList<>();
        int total = 0;
        String agent = endpoint.toString();
        for (int i = 0; i < toSend.size(); i += WireFormat.MAX_COMMANDS) {
            List<Pending> part = new ArrayList<>(toSend.subList(i, Math.min(toSend.size(), i + WireFormat.MAX_COMMANDS)));
            List<FirewallCommand> commands = new ArrayList<>(part.size());
            for (Pending p : part) {
                commands.add(p.command);
            }
            String nonce = MessageCodec.newNonce();
            byte[] bytes = codec.encode(commands, agent, clock.millis(), nonce);
            encoded.add(bytes);
            total += bytes.length;
            messages.add(new Message(part, nonce));
        }
        byte[] all = new byte[total];
        int at = 0;
        for (byte[] b : encoded) {
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        connection.write(all, System.nanoTime() + options.timeout.toNanos());
        inFlight.addAll(messages);
        inFlightCommands += toSend.size();
    }

    /**
     * Reads the replies that have arrived (with {@code wait}, first waits up to the timeout for one) and settles
     * their messages, oldest first: {@code ERR <nonce>/<i>} refuses one command, {@code OK <nonce>} ends the message
     * (its other commands applied), {@code ERR <nonce>} refuses it whole. True when at least one reply was read.
     */
    private boolean readReplies(ArrayDeque<Message> inFlight, boolean wait) throws IOException {
        boolean any = false;
        while (!inFlight.isEmpty()) {
            String reply = wait && !any ? connection.readLine(System.nanoTime() + options.timeout.toNanos()) : connection.readLineIfReady();
            if (reply == null) {
                return any;
            }
            any = true;
            Message m = inFlight.peek();
            if (reply.startsWith("BUSY ") || reply.startsWith("ERR - ")) {
                // no verdict on this message: the agent is busy or refused the connection; retry it
                throw new IOException("agent gave no verdict: '" + WireFormat.printable(reply) + "'");
            }
            if (reply.startsWith("ERR " + m.nonce + "/")) {
                int space = reply.indexOf(' ', 4);
                int index;
                try {
                    index = Integer.parseInt(reply.substring(5 + m.nonce.length(), space < 0 ? reply.length() : space));
                } catch (NumberFormatException e) {
                    index = 0;
                }
                if (index < 1 || index > m.commands.size()) {
                    throw new IOException("agent reply names no command of the message: '" + WireFormat.printable(reply) + "'");
                }
                m.refused++;
                refusal(m.commands.get(index - 1).command, space < 0 ? "" : reply.substring(space + 1));
                continue;
            }
            int n = m.commands.size();
            if (reply.startsWith("OK " + m.nonce + " ")) {
                accepted.addAndGet(n - m.refused);
                refused.addAndGet(m.refused);
                LOGGER.debug("Firewall agent: {} command(s) -> {}", n, reply);
            } else if (reply.startsWith("ERR " + m.nonce + " ")) {
                refused.addAndGet(n);
                refusal(m.commands.get(0).command, reply.substring(5 + m.nonce.length()));
                if (n > 1) {
                    LOGGER.warn("Firewall agent refused the other {} command(s) of the same message with it", n - 1);
                }
            } else if (reply.startsWith("OK ") || reply.startsWith("ERR ")) {
                throw new IOException("agent reply out of order: '" + WireFormat.printable(reply) + "'");
            } else {
                throw new IOException("unexpected agent reply '" + WireFormat.printable(reply) + "'");
            }
            sent.addAndGet(n);
            inFlightCommands -= n;
            inFlight.poll();
        }
        return any;
    }

    private void refusal(FirewallCommand command, String reason) {
        if (reason.contains("circuit breaker open")) {
            breakerOpenSeenAt = System.nanoTime();
        }
        LOGGER.warn("Firewall agent refused {}: {}", command, WireFormat.printable(reason));
    }

    private void closeConnection() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    /** Commands the agent gave a verdict on (OK or ERR). */
    public long sentCount() { return sent.get(); }
    /** Whether the last attempt reached the agent (connected and sent). */
    public boolean agentReachable() { return reachable; }
    /** Whether the agent refused a block because of its circuit breaker within the last minute. */
    public boolean agentBreakerOpen() {
        long at = breakerOpenSeenAt;
        return at != 0 && System.nanoTime() - at < TimeUnit.MINUTES.toNanos(1);
    }
    /** Commands the agent answered OK. */
    public long acceptedCount() { return accepted.get(); }
    /** Commands the agent answered ERR (not retried). */
    public long refusedCount() { return refused.get(); }
    /** Commands dropped: queue overflow or agent unreachable after every attempt. */
    public long droppedCount() { return dropped.get(); }

    /** Offenders not sent because they cover an allowlisted address or a trusted relay, or are not global addresses. */
    public long sparedCount() { return spareCount.get(); }
    /** Listings never sent because their class is protocol (or they are observed): dealt with at SMTP only. */
    public long protocolClassCount() { return weakCount.get(); }
    /** Commands waiting to be sent. */
    public int queued() { return queue.size(); }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            worker.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
