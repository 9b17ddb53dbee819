package dev.spamtrap.it.deploy;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The repository's docker-compose.yml, unchanged, on a real Docker engine, with local stand-ins for the
 * official images selected through its image variables (no image registry is reachable here): Cassandra,
 * James with the drop-in jar and the agent container in James's network namespace. Two client containers
 * reach James's published SMTP port as remote hosts do (see {@link ClientContainer}): the first hits a
 * trap, its message is quarantined, the agent's nftables rule in James's namespace then drops its next
 * connection (so it sees forwarded, published-port traffic with the client's own address) while the second
 * client is still served; with the packet block lifted James itself refuses the first. {@code down -v}
 * leaves no container, network or volume behind. Testcontainers drives the engine (the stack through the local
 * docker-compose, the client and one-off containers, exec and inspection).
 */
class ComposeStackTest {
    static final String PROJECT = "spamtrapit";
    static final String OFFENDER = "198.51.100.10";
    static final String GOOD = "198.51.100.20";
    static final String QUARANTINE = "var/mail/spamtrap";
    static final long T0 = System.nanoTime();
    static String startedEngine;
    static ComposeStack stack;
    static ClientContainer offender;
    static ClientContainer good;
    static int smtpPort;
    static int webAdminPort;

    static void log(String what) {
        System.out.printf("ComposeStackTest: %-60s at %5.1f s%n", what, (System.nanoTime() - T0) / 1e9);
    }

    @BeforeAll
    static void up() {
        assumeTrue("root".equals(System.getProperty("user.name")), "the compose test needs root (Docker engine, veth pairs)");
        Scripts.Result engine = Scripts.script("docker-engine");
        assumeTrue(engine.ok(), () -> "no Docker engine can run here: " + engine.why());
        if (engine.out().startsWith("started ")) {
            startedEngine = engine.out().substring("started ".length()).strip();
        }
        log("engine ready");
        ProjectLayout layout = ProjectLayout.locate();
        layout.extensionJar();
        layout.agentJar();
        Scripts.Result images = Scripts.script("build-standin-images");
        assertThat(images.ok()).as("stand-in images: %s", images.err()).isTrue();
        log("stand-in images ready");

        Map<String, String> env = new LinkedHashMap<>();
        for (String line : images.out().strip().split("\n")) {
            String[] kv = line.split("=", 2);
            env.put(kv[0], kv[1]);
        }
        env.put("AGENT_IMAGE", "local/spamtrap-agent:test");
        smtpPort = Ports.free();
        webAdminPort = Ports.free();
        env.put("SMTP_PUBLISH", ClientContainer.HOST_ADDRESS + ":" + smtpPort);
        env.put("WEBADMIN_PUBLISH", "127.0.0.1:" + webAdminPort);
        env.put("IMAP_PUBLISH", "127.0.0.1:" + Ports.free());

        // The clients first: the published address lives on their veth pairs.
        offender = new ClientContainer("local/spamtrap-client:bookworm", OFFENDER, "stitoff");
        good = new ClientContainer("local/spamtrap-client:bookworm", GOOD, "stitgood");
        stack = new ComposeStack(layout.root().resolve("docker-compose.yml").toFile(), PROJECT, env);
        stack.up();
        log("docker-compose up done");
    }

    @AfterAll
    static void cleanUp() {
        if (offender != null) {
            offender.close();
        }
        if (good != null) {
            good.close();
        }
        if (stack != null) {
            stack.close();
        }
        if (startedEngine != null) {
            Scripts.run(List.of("kill", startedEngine), 30);
        }
        log("cleaned up");
    }

    @Test
    void trapHitQuarantineAgentDropAndNothingLeftBehind() {
        String init = Await.until(Duration.ofSeconds(120), "the init step to finish", () -> {
            var state = ComposeStack.inspect(stack.container("james-init")).getState();
            return state.getStatus() + " " + state.getExitCodeLong();
        }, s -> s.startsWith("exited"));
        assertThat(init).as("james-init created the demo mailbox: %s", stack.logs("james-init")).isEqualTo("exited 0");
        String agent = stack.container("agent");
        String james = stack.container("james");
        assertThat(ComposeStack.inspect(agent).getHostConfig().getNetworkMode()).isEqualTo("container:" + james);

        ExecResult hit = offender.swaks(smtpPort, "bot@spam.test", "trap@example.com", "compose-trap", 120);
        assertThat(hit.getStdout()).as(hit.getStdout()).contains("<-  250 2.1.5 Recipient <trap@example.com> OK").contains("<-  250 2.6.0");
        log("trap hit delivered");

        WebAdmin webAdmin = new WebAdmin(webAdminPort);
        String listed = Await.until(Duration.ofSeconds(60), "quarantined mail", () -> webAdmin.listMails(QUARANTINE), s -> !s.equals("[]"));
        assertThat(webAdmin.getMail(QUARANTINE, listed.replaceAll("^\\[\"|\"]$", ""))).contains("Subject: compose-trap");

        Await.until(Duration.ofSeconds(60), "the agent's block of " + OFFENDER,
            () -> ComposeStack.exec(agent, "nft", "list", "set", "inet", "spamtrap", "block4").getStdout(), s -> s.contains(OFFENDER));
        long droppedBefore = dropCounter(agent);
        assertThat(offender.greeted(smtpPort, 8)).as("the offender's next connection is dropped").isFalse();
        assertThat(dropCounter(agent)).as("dropped by the agent's rule in James's namespace").isGreaterThan(droppedBefore);
        log("offender dropped by the agent");

        ExecResult served = good.swaks(smtpPort, "friend@good.test", "alice@example.com", "hello-alice", 120);
        assertThat(served.getStdout()).as(served.getStdout()).contains("<-  250 2.6.0");
        log("other client served");

        // Lift the packet block: James itself refuses the returning offender (the sample's tarpit mode:
        // every reply late, the refusal after the message). The agent is stopped first, or its drift check would
        // put the element back within a second; a stopped agent leaves the kernel's blocks as they are.
        String agentImage = ComposeStack.inspect(agent).getConfig().getImage();
        stack.stop("agent");
        try (GenericContainer<?> nft = new GenericContainer<>(DockerImageName.parse(agentImage))
                 .withNetworkMode("container:" + james)
                 .withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint("nft").getHostConfig()
                     .withCapAdd(com.github.dockerjava.api.model.Capability.NET_ADMIN))
                 .withCommand("delete", "element", "inet", "spamtrap", "block4", "{ " + OFFENDER + " }")
                 .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(60)))) {
            nft.start();    // fails unless nft exits 0
        }
        ExecResult back = offender.swaks(smtpPort, "bot@spam.test", "alice@example.com", "again", 180);
        assertThat(back.getStdout()).as(back.getStdout()).contains("450 4.7.1 Your address " + OFFENDER).doesNotContainIgnoringCase("trap@");
        log("returning offender refused by James");

        String project = stack.project();
        List<String> volumes = stack.volumes();
        assertThat(volumes).as("the stack's containers have volumes to check").isNotEmpty();
        stack.down();
        assertThat(stack.containers()).as("containers").isEmpty();
        assertThat(ComposeStack.networks(project)).as("networks").isEmpty();
        List<String> left = new ArrayList<>();
        for (String v : volumes) {
            if (ComposeStack.volumeExists(v)) {
                left.add(v);
            }
        }
        assertThat(left).as("volumes left behind").isEmpty();
        log("down left nothing behind");
    }

    static long dropCounter(String agent) {
        String chain = ComposeStack.exec(agent, "nft", "list", "chain", "inet", "spamtrap", "prerouting").getStdout();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("ip saddr @block4 counter packets (\\d+)").matcher(chain);
        assertThat(m.find()).as(chain).isTrue();
        return Long.parseLong(m.group(1));
    }
}
