package dev.spamtrap.core.firewall;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * Unix domain sockets for the agent channel. They exist in the JDK from Java 16, but the code James loads
 * is built for Java 11 (James 3.8's runtime), so they are reached by reflection: on Java 16+ they work,
 * on Java 11 a {@code unix:} endpoint fails at start with a clear reason (use {@code tcp:} there).
 */
final class UnixSockets {
    private static final Method ADDRESS_OF = find();

    private UnixSockets() {
    }

    private static Method find() {
        try {
            return Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    static boolean available() {
        return ADDRESS_OF != null;
    }

    static SocketAddress address(Path path) {
        if (ADDRESS_OF == null) {
            throw new IllegalArgumentException("'unix:" + path + "': Unix domain sockets need Java 16 or newer, this is Java "
                + Runtime.version().feature() + "; use a tcp:127.0.0.1:PORT endpoint");
        }
        try {
            return (SocketAddress) ADDRESS_OF.invoke(null, path);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("'unix:" + path + "': " + e.getMessage(), e);
        }
    }

    static boolean isUnix(SocketAddress address) {
        return address.getClass().getName().equals("java.net.UnixDomainSocketAddress");
    }

    static SocketChannel open() throws IOException {
        try {
            // SocketChannel.open(ProtocolFamily) is Java 15+.
            return (SocketChannel) SocketChannel.class.getMethod("open", ProtocolFamily.class)
                .invoke(null, StandardProtocolFamily.valueOf("UNIX"));
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof IOException) {
                throw (IOException) e.getCause();
            }
            throw new IOException(e.getCause());
        } catch (ReflectiveOperationException | IllegalArgumentException e) {
            throw new IOException("Unix domain sockets need Java 16 or newer, this is Java " + Runtime.version().feature(), e);
        }
    }
}
