package dev.spamtrap.core.firewall;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;

import static dev.spamtrap.core.firewall.MessageException.Kind.BAD_SIGNATURE;
import static dev.spamtrap.core.firewall.MessageException.Kind.MALFORMED;
import static dev.spamtrap.core.firewall.MessageException.Kind.OVERSIZED;

/**
 * Signs and checks lines of the {@link WireFormat}. Used by both James (signing) and the agent (checking).
 * The check is strict: one wrong character anywhere, a missing or extra space, a field too long, and the
 * line is refused with a reason that names the field. Freshness and replay are the agent's job (they need
 * its clock and nonce memory); this class only says whether the line is well formed and signed with the key.
 * Thread-safe.
 */
public final class MessageCodec {
    private static final String ALGORITHM = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();

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

    /** The signed line for the agent at {@code agent} (its endpoint as James names it), without its newline. */
    public String encode(FirewallCommand command, String agent, long timestampMillis, String nonce) {
        if (!WireFormat.isAgentToken(agent)) {
            throw new IllegalArgumentException("agent name must be 1.." + WireFormat.MAX_AGENT_CHARS + " printable characters without spaces");
        }
        if (!WireFormat.isLowerHex(nonce, WireFormat.NONCE_HEX)) {
            throw new IllegalArgumentException("nonce must be " + WireFormat.NONCE_HEX + " lowercase hex digits");
        }
        if (timestampMillis < 0) {
            throw new IllegalArgumentException("negative timestamp");
        }
        String body = WireFormat.VERSION + ' ' + agent + ' ' + timestampMillis + ' ' + nonce + ' ' + command.action().name() + ' '
            + command.target() + ' ' + command.ttlSeconds();
        return body + ' ' + sign(body);
    }

    String sign(String body) {
        return WireFormat.hex(mac(body));
    }

    private byte[] mac(String body) {
        Mac m = mac.get();
        m.reset();
        return m.doFinal(body.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Parses and authenticates one line (without its newline).
     *
     * @throws MessageException OVERSIZED, MALFORMED (naming the field) or BAD_SIGNATURE
     */
    public SignedMessage decode(String line) throws MessageException {
        if (line.length() > WireFormat.MAX_LINE_BYTES) {
            throw new MessageException(OVERSIZED, "message of " + line.length() + " bytes is longer than the limit of "
                + WireFormat.MAX_LINE_BYTES);
        }
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                throw new MessageException(MALFORMED, "character " + String.format("\\x%02x", (int) c & 0xffff) + " at position " + i
                    + " is not printable ASCII");
            }
        }
        String[] f = line.split(" ", -1);
        if (f.length == 7 && "v1".equals(f[0])) {
            throw new MessageException(MALFORMED, "version v1 names no agent and is no longer accepted (expected v2: update James's spamtrap jar)");
        }
        if (f.length != 8) {
            throw new MessageException(MALFORMED, "expected 8 fields separated by single spaces, got " + f.length
                + " (format: v2 <agent> <unix-millis> <nonce> <BLOCK|UNBLOCK> <ip-or-cidr> <ttl-seconds> <hmac>)");
        }
        if (!WireFormat.VERSION.equals(f[0])) {
            throw new MessageException(MALFORMED, "unknown version '" + WireFormat.printable(f[0]) + "' (expected v2)");
        }
        if (!WireFormat.isAgentToken(f[1])) {
            throw new MessageException(MALFORMED, "bad agent name '" + WireFormat.printable(f[1]) + "'");
        }
        // the fields after the agent name line up with version 1's
        String agent = f[1];
        f = java.util.Arrays.copyOfRange(f, 1, f.length);
        if (!WireFormat.isDigits(f[1], 15)) {
            throw new MessageException(MALFORMED, "bad timestamp '" + WireFormat.printable(f[1]) + "' (unix milliseconds)");
        }
        if (!WireFormat.isLowerHex(f[2], WireFormat.NONCE_HEX)) {
            throw new MessageException(MALFORMED, "bad nonce '" + WireFormat.printable(f[2]) + "' (16 lowercase hex digits)");
        }
        FirewallCommand.Action action;
        if ("BLOCK".equals(f[3])) {
            action = FirewallCommand.Action.BLOCK;
        } else if ("UNBLOCK".equals(f[3])) {
            action = FirewallCommand.Action.UNBLOCK;
        } else {
            throw new MessageException(MALFORMED, "unknown command '" + WireFormat.printable(f[3]) + "' (BLOCK or UNBLOCK)");
        }
        if (!WireFormat.isTargetToken(f[4])) {
            throw new MessageException(MALFORMED, "malformed address or prefix '" + WireFormat.printable(f[4]) + "'");
        }
        if (!WireFormat.isDigits(f[5], 10)) {
            throw new MessageException(MALFORMED, "bad ttl '" + WireFormat.printable(f[5]) + "' (whole seconds)");
        }
        if (!WireFormat.isLowerHex(f[6], WireFormat.HMAC_HEX)) {
            throw new MessageException(MALFORMED, "bad hmac field (64 lowercase hex digits expected)");
        }
        String body = line.substring(0, line.length() - WireFormat.HMAC_HEX - 1);
        byte[] expected = mac(body); // compared as bytes: no hex round trip per message
        if (!MessageDigest.isEqual(expected, WireFormat.unhex(f[6]))) {
            throw new MessageException(BAD_SIGNATURE, "bad signature (wrong key or altered message)");
        }
        long ttl = Long.parseLong(f[5]);
        FirewallCommand command;
        if (action == FirewallCommand.Action.BLOCK) {
            if (ttl < 1 || ttl > FirewallCommand.MAX_TTL_SECONDS) {
                throw new MessageException(MALFORMED, "ttl " + ttl + " out of range 1.." + FirewallCommand.MAX_TTL_SECONDS + " for BLOCK");
            }
            command = FirewallCommand.block(f[4], ttl);
        } else {
            if (ttl != 0) {
                throw new MessageException(MALFORMED, "ttl must be 0 for UNBLOCK, got " + ttl);
            }
            command = FirewallCommand.unblock(f[4]);
        }
        return new SignedMessage(agent, Long.parseLong(f[1]), f[2], command);
    }
}
