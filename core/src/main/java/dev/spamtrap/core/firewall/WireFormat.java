package dev.spamtrap.core.firewall;

/**
 * The message format spoken between James and the firewall agent, version 3. A message carries 1 to
 * {@link #MAX_COMMANDS} commands under one signature, as lines each ended by {@code \n}:
 *
 * <pre>
 * v3 &lt;agent&gt; &lt;unix-millis&gt; &lt;nonce: 16 hex&gt; &lt;count&gt;
 * &lt;BLOCK|UNBLOCK&gt; &lt;ip-or-cidr&gt; &lt;ttl-seconds&gt;        (count lines)
 * &lt;hmac-sha256: 64 hex&gt;
 * </pre>
 *
 * {@code <agent>} is the endpoint the message is sent to, as written in {@code firewall.agent} (e.g.
 * {@code tcp:127.0.0.1:7625}, {@code unix:/run/spamtrap/agent.sock}); an agent refuses a message that names
 * another endpoint than the one it arrived on, so a message captured at one agent cannot be replayed to another
 * that shares the key. The timestamp and the nonce are the message's: freshness and replay are judged once per message.
 * Fields are separated by exactly one space; every line is printable ASCII and at most {@link #MAX_LINE_BYTES}
 * bytes without its newline (a {@code \r} before it is not part of the line). The HMAC covers every line before
 * it, each with its {@code \n}. An UNBLOCK carries ttl 0.
 * <p>
 * The agent answers each message, in order, with zero or more {@code ERR <nonce>/<i> <reason>} lines, one per
 * command it refused (i counts the message's commands from 1), then {@code OK <nonce> <applied> of <count> applied}
 * (for a message of one command that applied, followed by {@code : <what happened>}, e.g. {@code : blocked for 3600 s}); or, when it refuses the message whole (grammar, signature, agent, freshness, nonce), with the one line
 * {@code ERR <nonce|-> <reason>}. {@code BUSY ...} and {@code ERR - ...} are no verdict: the sender tries again.
 */
public final class WireFormat {
    public static final String VERSION = "v3";
    /** Longest agent name: an endpoint such as a Unix socket path with its {@code unix:} prefix. */
    public static final int MAX_AGENT_CHARS = 200;
    public static final int MAX_LINE_BYTES = 512;
    /** Commands in one message at most. */
    public static final int MAX_COMMANDS = 1000;
    public static final int NONCE_HEX = 16;
    public static final int HMAC_HEX = 64;
    /** Longest target token: a full IPv6 address with an IPv4 tail and a prefix length. */
    public static final int MAX_TARGET_CHARS = 49;

    private WireFormat() {
    }

    static String checkTargetToken(String target) {
        if (!isTargetToken(target)) {
            throw new IllegalArgumentException("'" + printable(target) + "' is not an IPv4 or IPv6 address or prefix");
        }
        return target;
    }

    static boolean isTargetToken(String t) {
        if (t == null || t.isEmpty() || t.length() > MAX_TARGET_CHARS) {
            return false;
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':' || c == '/';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** An agent name: 1 to {@link #MAX_AGENT_CHARS} printable ASCII characters, no space. */
    static boolean isAgentToken(String t) {
        if (t == null || t.isEmpty() || t.length() > MAX_AGENT_CHARS) {
            return false;
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }

    static boolean isLowerHex(String s, int length) {
        if (s.length() != length) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    static boolean isDigits(String s, int maxLength) {
        if (s.isEmpty() || s.length() > maxLength) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** The text made safe to quote in a log line or reply: non-printable characters escaped, length capped. */
    public static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                b.append(c);
            } else {
                b.append(String.format("\\x%02x", (int) c & 0xff));
            }
        }
        if (b.length() >= 80 && s.length() > 80) {
            b.append("...");
        }
        return b.toString();
    }

    static String hex(byte[] bytes) {
        char[] digits = "0123456789abcdef".toCharArray();
        char[] out = new char[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            out[2 * i] = digits[(bytes[i] >> 4) & 0xf];
            out[2 * i + 1] = digits[bytes[i] & 0xf];
        }
        return new String(out);
    }

    /** The bytes of lowercase hex digits (already checked by {@link #isLowerHex}); char arithmetic, no substring per byte. */
    static byte[] unhex(String hex) {
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (hexDigit(hex.charAt(2 * i)) << 4 | hexDigit(hex.charAt(2 * i + 1)));
        }
        return out;
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        throw new IllegalArgumentException("not a hex digit: " + c);
    }
}
