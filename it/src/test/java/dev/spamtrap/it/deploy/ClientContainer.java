package dev.spamtrap.it.deploy;

import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

import java.util.ArrayList;
import java.util.List;

/**
 * A client host as a container with no Docker network: the test wires it to the host with a veth pair
 * (host side {@link #HOST_ADDRESS}, client side its own address), so its connections to a port Docker
 * publishes on the host arrive as a remote client's do: DNATed by Docker and forwarded to the container,
 * source address kept. (A container on a Docker bridge would reach the port through docker-proxy or a
 * masquerade and show up as the bridge's gateway address.)
 */
final class ClientContainer implements AutoCloseable {
    static final String HOST_ADDRESS = "198.51.100.1";
    private final GenericContainer<?> container;
    private final String address;
    private final String hostSide;

    ClientContainer(String image, String address, String hostSide) {
        this.address = address;
        this.hostSide = hostSide;
        Scripts.run(List.of("ip", "link", "del", hostSide), 30);
        container = new GenericContainer<>(DockerImageName.parse(image))
            .withNetworkMode("none")
            .withCommand("sleep", "3600");
        container.start();
        String pid = Long.toString(container.getContainerInfo().getState().getPidLong());
        String peer = hostSide + "c";
        ip("link", "add", hostSide, "type", "veth", "peer", "name", peer);
        ip("link", "set", peer, "netns", pid);
        ip("addr", "add", HOST_ADDRESS + "/32", "dev", hostSide);
        ip("link", "set", hostSide, "up");
        ip("route", "add", address + "/32", "dev", hostSide);
        inContainer(pid, "link", "set", peer, "name", "eth0");
        inContainer(pid, "addr", "add", address + "/32", "dev", "eth0");
        inContainer(pid, "link", "set", "eth0", "up");
        inContainer(pid, "route", "add", HOST_ADDRESS + "/32", "dev", "eth0");
        inContainer(pid, "route", "add", "default", "via", HOST_ADDRESS, "dev", "eth0");
    }

    String address() {
        return address;
    }

    /** Runs a command inside the client container. */
    ExecResult exec(String... cmd) {
        try {
            return container.execInContainer(cmd);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("exec " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** swaks from this client to HOST_ADDRESS:port; returns the whole transcript. */
    ExecResult swaks(int port, String from, String to, String subject, int timeoutSeconds) {
        return exec("timeout", Integer.toString(timeoutSeconds + 30), "swaks", "--server", HOST_ADDRESS + ":" + port,
            "--timeout", timeoutSeconds + "s", "--helo", "client.test", "--from", from, "--to", to, "--header", "Subject: " + subject);
    }

    /** True when a TCP connection to HOST_ADDRESS:port opens and the server greets within the time. */
    boolean greeted(int port, int seconds) {
        ExecResult r = exec("timeout", Integer.toString(seconds), "bash", "-c",
            "exec 3<>/dev/tcp/" + HOST_ADDRESS + "/" + port + " && head -c 3 <&3");
        return r.getExitCode() == 0 && r.getStdout().startsWith("220");
    }

    private static void ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        check(Scripts.run(cmd, 30));
    }

    private static void inContainer(String pid, String... args) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", pid, "-n", "ip"));
        cmd.addAll(List.of(args));
        check(Scripts.run(cmd, 30));
    }

    private static Scripts.Result check(Scripts.Result r) {
        if (!r.ok()) {
            throw new IllegalStateException(r.why());
        }
        return r;
    }

    @Override
    public void close() {
        container.stop();
        Scripts.run(List.of("ip", "link", "del", hostSide), 30);
    }
}
