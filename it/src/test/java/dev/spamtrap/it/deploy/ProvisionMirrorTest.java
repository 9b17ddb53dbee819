package dev.spamtrap.it.deploy;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * it/scripts/provision-rootfs picks its debootstrap mirror as apt would: only files apt reads, only active
 * entries, only a mirror whose Release file is Debian's; and says which mirrors it tried when none serves.
 * The mirrors are served by a local HTTP server; the apt folder is a temporary one (SPAMTRAP_APT_DIR).
 */
class ProvisionMirrorTest {
    @TempDir
    Path apt;
    private HttpServer http;
    private String base;

    @BeforeEach
    void serveMirrors() throws IOException {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        release("/debian/dists/bullseye/Release", "Origin: Debian\nLabel: Debian\nSuite: oldstable\n");
        release("/other/dists/bullseye/Release", "Origin: Debian\nSuite: oldstable\n");
        release("/thirdparty/dists/bullseye/Release", "Origin: NodeSource\nSuite: nodistro\n");
        http.start();
        base = "http://127.0.0.1:" + http.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        http.stop(0);
    }

    private void release(String path, String body) {
        http.createContext(path, exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
    }

    @Test
    void disabledFilesAndEntriesAndForeignArchivesArePassedOver() throws IOException {
        Path d = Files.createDirectories(apt.resolve("sources.list.d"));
        // A file apt does not read (the case that broke: a disabled third-party repository sorted first).
        Files.writeString(d.resolve("a-google.list.disabled-by-farm"), "deb " + base + "/other bullseye main\n");
        Files.writeString(d.resolve("b-off.sources"),
            "Types: deb\nURIs: " + base + "/other\nSuites: bullseye\nComponents: main\nEnabled: no\n");
        Files.writeString(d.resolve("c-node.sources"),
            "Types: deb\nURIs: " + base + "/thirdparty\nSuites: bookworm\nComponents: main\n");
        Files.writeString(d.resolve("d-debian.sources"),
            "Types: deb\n# a comment\nURIs: " + base + "/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
                + "Types: deb\nURIs: " + base + "/security\nSuites: bookworm-security\nComponents: main\n");
        Files.writeString(apt.resolve("sources.list"), "# deb " + base + "/other bookworm main\n");

        Scripts.Result r = printMirror(Map.of());

        assertThat(r.exit()).as(r.why()).isZero();
        assertThat(r.out().strip()).isEqualTo(base + "/debian");
    }

    @Test
    void oneLineSourcesWithOptionsAreRead() throws IOException {
        Files.writeString(apt.resolve("sources.list"),
            "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] " + base + "/thirdparty bookworm main\n"
                + "deb [signed-by=/usr/share/keyrings/debian.gpg] " + base + "/other bookworm main\n");

        Scripts.Result r = printMirror(Map.of());

        assertThat(r.exit()).as(r.why()).isZero();
        assertThat(r.out().strip()).as("the third-party archive's Release is not Debian's").isEqualTo(base + "/other");
    }

    @Test
    void aMirrorThatServesNothingIsNamedWithTheReason() {
        Scripts.Result r = printMirror(Map.of("SPAMTRAP_DEBIAN_MIRROR", base + "/nothing"));

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains(base + "/nothing").contains("dists/bullseye/Release").contains("SPAMTRAP_DEBIAN_MIRROR");
    }

    private Scripts.Result printMirror(Map<String, String> env) {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("SPAMTRAP_APT_DIR", apt.toString());
        return Scripts.run(List.of("it/scripts/provision-rootfs", "--print-mirror", "bullseye"), all, 120);
    }
}
