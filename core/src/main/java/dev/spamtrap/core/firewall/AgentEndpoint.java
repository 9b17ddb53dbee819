package dev.spamtrap.core.firewall;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the agent listens: {@code unix:/run/spamtrap/agent.sock} (or just an absolute path), or
 * {@code tcp:127.0.0.1:7625} (or just {@code 127.0.0.1:7625}, {@code [::1]:7625}). TCP is for loopback only:
 * the address must be an IP literal (never looked up) of a loopback interface.
 */
public final class AgentEndpoint {
    private final SocketAddress address;
    private final String text;

    private AgentEndpoint(SocketAddress address, String text) {
        this.address = address;
        this.text = text;
    }

    /** @throws IllegalArgumentException saying what is wrong with the text */
    public static AgentEndpoint parse(String spec) {
        String s = spec.trim();
        if (s.startsWith("unix:")) {
            return unix(Path.of(s.substring(5)));
        }
        if (s.startsWith("/")) {
            return unix(Path.of(s));
        }
        if (s.startsWith("tcp:")) {
            s = s.substring(4);
        }
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("'" + spec + "' is neither unix:<path> nor tcp:<loopback-ip>:<port>");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + spec + "' has a bad port '" + s.substring(colon + 1) + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("'" + spec + "' has port " + port + " out of range");
        }
        Optional<byte[]> literal = dev.spamtrap.core.net.CidrRange.literal(host);
        if (literal.isEmpty()) {
            throw new IllegalArgumentException("'" + spec + "': '" + host + "' is not an IP address (names are not looked up)");
        }
        InetAddress ip;
        try {
            ip = InetAddress.getByAddress(literal.get());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("'" + spec + "': " + e.getMessage());
        }
        if (!ip.isLoopbackAddress()) {
            throw new IllegalArgumentException("'" + spec + "': " + ip.getHostAddress() + " is not a loopback address; the agent is reached over loopback or a Unix socket only");
        }
        return new AgentEndpoint(new InetSocketAddress(ip, port), "tcp:" + (ip.getAddress().length == 16 ? "[" + ip.getHostAddress() + "]" : ip.getHostAddress()) + ":" + port);
    }

    public static AgentEndpoint unix(Path path) {
        if (path.toString().isEmpty()) {
            throw new IllegalArgumentException("empty Unix socket path");
        }
        return new AgentEndpoint(UnixSockets.address(path), "unix:" + path);
    }

    public static AgentEndpoint tcp(InetSocketAddress address) {
        return parse("tcp:" + (address.getAddress().getAddress().length == 16 ? "[" + address.getAddress().getHostAddress() + "]" : address.getAddress().getHostAddress()) + ":" + address.getPort());
    }

    public boolean isUnix() {
        return UnixSockets.isUnix(address);
    }

    public SocketAddress address() {
        return address;
    }

    @Override
    public String toString() {
        return text;
    }
}
