package dev.spamtrap.core.firewall;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.spamtrap.core.firewall.MessageException.Kind.BAD_SIGNATURE;
import static dev.spamtrap.core.firewall.MessageException.Kind.MALFORMED;
import static dev.spamtrap.core.firewall.MessageException.Kind.OVERSIZED;

/**
 * Signs and checks messages of the {@link WireFormat}: a batch of commands under one HMAC. Used by both James
 * (signing) and the agent (checking, line by line as they arrive, with a {@link Decoder} per connection).
 * The check is strict: one wrong character anywhere, a missing or extra space, a field too long, and the
 * message is refused whole with a reason that names the field (and the command). Freshness and replay are the
 * agent's job (they need its clock and nonce memory); this class only says whether a message is well formed and
 * signed with the key. Thread-safe; a {@link Decoder} is not (one per connection).
 */
public final class MessageCodec {
    private static final String ALGORITHM = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] BLOCK = "BLOCK".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] UNBLOCK = "UNBLOCK".getBytes(StandardCharsets.US_ASCII);

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> mac;

    public MessageCodec(FirewallKey key) {
        this.key = new SecretKeySpec(key.bytes(), ALGORITHM);
        this.mac = ThreadLocal.withInitial(this::newMac);
    }

    private Mac newMac() {
        try {
            Mac m = Mac.getInstance(ALGORITHM);
            m.init(key);
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }

    /** A fresh random nonce: 64 bits as 16 lowercase hex digits. */
    public static String newNonce() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return WireFormat.hex(b);
    }

    /**
     * The signed message for the agent at {@code agent} (its endpoint as James names it), every line with its
     * newline, as the bytes sent.
     */
    public byte[] encode(List<FirewallCommand> commands, String agent, long timestampMillis, String nonce) {
        if (!WireFormat.isAgentToken(agent)) {
            throw new IllegalArgumentException("agent name must be 1.." + WireFormat.MAX_AGENT_CHARS + " printable characters without spaces");
        }
        if (!WireFormat.isLowerHex(nonce, WireFormat.NONCE_HEX)) {
            throw new IllegalArgumentException("nonce must be " + WireFormat.NONCE_HEX + " lowercase hex digits");
        }
        if (timestampMillis < 0) {
            throw new IllegalArgumentException("negative timestamp");
        }
        if (commands.isEmpty() || commands.size() > WireFormat.MAX_COMMANDS) {
            throw new IllegalArgumentException("a message carries 1.." + WireFormat.MAX_COMMANDS + " commands, not " + commands.size());
        }
        StringBuilder b = new StringBuilder(64 + agent.length() + commands.size() * 28);
        b.append(WireFormat.VERSION).append(' ').append(agent).append(' ').append(timestampMillis).append(' ').append(nonce).append(' ')
            .append(commands.size()).append('\n');
        for (FirewallCommand c : commands) {
            b.append(c.action().name()).append(' ').append(c.target()).append(' ').append(c.ttlSeconds()).append('\n');
        }
        return signed(b.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** The encoding of one command alone. */
    public byte[] encode(FirewallCommand command, String agent, long timestampMillis, String nonce) {
        return encode(List.of(command), agent, timestampMillis, nonce);
    }

    /** {@code body} (whole lines) followed by the line of its HMAC. */
    byte[] signed(byte[] body) {
        Mac m = mac.get();
        m.reset();
        byte[] digest = m.doFinal(body);
        byte[] out = Arrays.copyOf(body, body.length + WireFormat.HMAC_HEX + 1);
        byte[] hex = WireFormat.hex(digest).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(hex, 0, out, body.length, hex.length);
        out[out.length - 1] = '\n';
        return out;
    }

    /** A decoder for one connection's stream of messages. */
    public Decoder decoder() {
        return new Decoder(newMac());
    }

    /**
     * Decodes one whole message (its lines, each ended by a newline).
     *
     * @throws MessageException OVERSIZED, MALFORMED (naming the field) or BAD_SIGNATURE
     */
    public SignedMessage decode(byte[] message) throws MessageException {
        Decoder d = decoder();
        int start = 0;
        for (int i = 0; i < message.length; i++) {
            if (message[i] == '\n') {
                SignedMessage m = d.line(message, start, i);
                start = i + 1;
                if (m != null) {
                    if (start != message.length) {
                        throw new MessageException(MALFORMED, "text after the end of the message");
                    }
                    return m;
                }
            }
        }
        throw new MessageException(MALFORMED, "incomplete message (no HMAC line after its commands)");
    }

    /**
     * Reads the messages of one connection line by line. Lines are fed as they arrive; the HMAC is computed as they
     * come, and the commands are kept until the HMAC line says whether the message is authentic. After a refusal,
     * {@link #inStep()} says whether the decoder still knows where the next message starts (a refused message whose
     * lines were all counted) or not (a bad header or HMAC line: the connection should be closed).
     */
    public static final class Decoder {
        private final Mac mac;
        private final List<FirewallCommand> commands = new ArrayList<>();
        private String agent;
        private long timestamp;
        private String nonce = "-";
        /** Commands still expected; -1 while waiting for a header, 0 when the HMAC line is next. */
        private int expected = -1;
        private String malformed;
        private boolean inStep = true;

        private Decoder(Mac mac) {
            this.mac = mac;
        }

        /** The nonce of the message being read, or of the last one refused; "-" when its header had none. */
        public String nonce() {
            return nonce;
        }

        /** Whether the decoder knows where the next message starts. */
        public boolean inStep() {
            return inStep;
        }

        /**
         * One line, without its newline (a trailing {@code \r} is ignored).
         *
         * @return the message once its HMAC line is read and checked; null while it is incomplete
         * @throws MessageException the message is refused whole: OVERSIZED, MALFORMED (naming the field) or BAD_SIGNATURE
         */
        public SignedMessage line(byte[] buf, int from, int to) throws MessageException {
            if (to > from && buf[to - 1] == '\r') {
                to--;
            }
            if (to - from > WireFormat.MAX_LINE_BYTES) {
                reset(false);
                throw new MessageException(OVERSIZED, "line of " + (to - from) + " bytes is longer than the limit of " + WireFormat.MAX_LINE_BYTES);
            }
            if (expected < 0) {
                header(new String(buf, from, to - from, StandardCharsets.ISO_8859_1));
                mac.reset();
                mac.update(buf, from, to - from);
                mac.update((byte) '\n');
                return null;
            }
            if (expected > 0) {
                expected--;
                mac.update(buf, from, to - from);
                mac.update((byte) '\n');
                if (malformed == null) {
                    try {
                        commands.add(command(buf, from, to));
                    } catch (MessageException e) {
                        malformed = "command " + (commands.size() + 1) + ": " + e.getMessage();
                    }
                }
                return null;
            }
            return trailer(buf, from, to);
        }

        private void reset(boolean keepStep) {
            commands.clear();
            expected = -1;
            malformed = null;
            inStep = keepStep;
        }

        private void header(String line) throws MessageException {
            nonce = "-";
            inStep = false; // until the header is understood, nobody knows how many lines follow
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (c < 0x20 || c > 0x7e) {
                    throw new MessageException(MALFORMED, "character " + String.format("\\x%02x", (int) c & 0xff) + " at position " + i
                        + " is not printable ASCII");
                }
            }
            String[] f = line.split(" ", -1);
            if (f.length >= 4 && WireFormat.isLowerHex(f[3], WireFormat.NONCE_HEX)) {
                nonce = f[3];
            }
            if (f.length == 7 && "v1".equals(f[0]) || f.length == 8 && "v2".equals(f[0])) {
                throw new MessageException(MALFORMED, "version " + f[0] + " (one command per line) is no longer accepted (expected "
                    + WireFormat.VERSION + ": update James's spamtrap jar)");
            }
            if (f.length != 5) {
                throw new MessageException(MALFORMED, "expected a header of 5 fields separated by single spaces, got " + f.length
                    + " (format: v3 <agent> <unix-millis> <nonce> <count>)");
            }
            if (!WireFormat.VERSION.equals(f[0])) {
                throw new MessageException(MALFORMED, "unknown version '" + WireFormat.printable(f[0]) + "' (expected " + WireFormat.VERSION + ")");
            }
            if (!WireFormat.isAgentToken(f[1])) {
                throw new MessageException(MALFORMED, "bad agent name '" + WireFormat.printable(f[1]) + "'");
            }
            if (!WireFormat.isDigits(f[2], 15)) {
                throw new MessageException(MALFORMED, "bad timestamp '" + WireFormat.printable(f[2]) + "' (unix milliseconds)");
            }
            if (!WireFormat.isLowerHex(f[3], WireFormat.NONCE_HEX)) {
                throw new MessageException(MALFORMED, "bad nonce '" + WireFormat.printable(f[3]) + "' (16 lowercase hex digits)");
            }
            int count = WireFormat.isDigits(f[4], 4) ? Integer.parseInt(f[4]) : -1;
            if (count < 1 || count > WireFormat.MAX_COMMANDS) {
                throw new MessageException(MALFORMED, "bad count '" + WireFormat.printable(f[4]) + "' (1.." + WireFormat.MAX_COMMANDS + " commands)");
            }
            agent = f[1];
            timestamp = Long.parseLong(f[2]);
            expected = count;
            inStep = true;
        }

        private SignedMessage trailer(byte[] buf, int from, int to) throws MessageException {
            String hmac = new String(buf, from, to - from, StandardCharsets.ISO_8859_1);
            if (!WireFormat.isLowerHex(hmac, WireFormat.HMAC_HEX)) {
                reset(false);
                throw new MessageException(MALFORMED, "bad hmac line (64 lowercase hex digits expected after the message's commands)");
            }
            byte[] expectedMac = mac.doFinal(); // compared as bytes: no hex round trip
            String bad = malformed;
            List<FirewallCommand> got = List.copyOf(commands);
            reset(true);
            if (bad != null) {
                throw new MessageException(MALFORMED, bad);
            }
            if (!MessageDigest.isEqual(expectedMac, WireFormat.unhex(hmac))) {
                throw new MessageException(BAD_SIGNATURE, "bad signature (wrong key or altered message)");
            }
            return new SignedMessage(agent, timestamp, nonce, got);
        }

        /** {@code <BLOCK|UNBLOCK> <target> <ttl>}, read from the bytes (no split, one string: the target). */
        private static FirewallCommand command(byte[] b, int from, int to) throws MessageException {
            int s1 = indexOf(b, from, to);
            int s2 = s1 < 0 ? -1 : indexOf(b, s1 + 1, to);
            if (s2 < 0 || indexOf(b, s2 + 1, to) >= 0) {
                throw new MessageException(MALFORMED, "expected 3 fields separated by single spaces (<BLOCK|UNBLOCK> <ip-or-cidr> <ttl-seconds>)");
            }
            FirewallCommand.Action action;
            if (regionIs(b, from, s1, BLOCK)) {
                action = FirewallCommand.Action.BLOCK;
            } else if (regionIs(b, from, s1, UNBLOCK)) {
                action = FirewallCommand.Action.UNBLOCK;
            } else {
                throw new MessageException(MALFORMED, "unknown command '" + WireFormat.printable(new String(b, from, s1 - from, StandardCharsets.ISO_8859_1))
                    + "' (BLOCK or UNBLOCK)");
            }
            String target = new String(b, s1 + 1, s2 - s1 - 1, StandardCharsets.ISO_8859_1);
            if (!WireFormat.isTargetToken(target)) {
                throw new MessageException(MALFORMED, "malformed address or prefix '" + WireFormat.printable(target) + "'");
            }
            long ttl = 0;
            if (to - s2 - 1 < 1 || to - s2 - 1 > 10) {
                throw new MessageException(MALFORMED, "bad ttl '" + WireFormat.printable(new String(b, s2 + 1, to - s2 - 1, StandardCharsets.ISO_8859_1))
                    + "' (whole seconds)");
            }
            for (int i = s2 + 1; i < to; i++) {
                if (b[i] < '0' || b[i] > '9') {
                    throw new MessageException(MALFORMED, "bad ttl '" + WireFormat.printable(new String(b, s2 + 1, to - s2 - 1, StandardCharsets.ISO_8859_1))
                        + "' (whole seconds)");
                }
                ttl = ttl * 10 + (b[i] - '0');
            }
            if (action == FirewallCommand.Action.BLOCK) {
                if (ttl < 1 || ttl > FirewallCommand.MAX_TTL_SECONDS) {
                    throw new MessageException(MALFORMED, "ttl " + ttl + " out of range 1.." + FirewallCommand.MAX_TTL_SECONDS + " for BLOCK");
                }
                return FirewallCommand.block(target, ttl);
            }
            if (ttl != 0) {
                throw new MessageException(MALFORMED, "ttl must be 0 for UNBLOCK, got " + ttl);
            }
            return FirewallCommand.unblock(target);
        }

        private static int indexOf(byte[] b, int from, int to) {
            for (int i = from; i < to; i++) {
                if (b[i] == ' ') {
                    return i;
                }
            }
            return -1;
        }

        private static boolean regionIs(byte[] b, int from, int to, byte[] word) {
            if (to - from != word.length) {
                return false;
            }
            for (int i = 0; i < word.length; i++) {
                if (b[from + i] != word[i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
