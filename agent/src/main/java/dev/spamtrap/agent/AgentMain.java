package dev.spamtrap.agent;

import dev.spamtrap.core.config.ConfigException;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code java -jar spamtrap-agent.jar conf/agent.properties} */
public final class AgentMain {
    private AgentMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 1 || args[0].startsWith("-")) {
            System.err.println("usage: java -jar spamtrap-agent.jar <agent.properties>");
            System.exit(2);
        }
        Agent agent;
        try {
            agent = Agent.create(AgentConfig.load(Path.of(args[0]))).start();
        } catch (ConfigException e) {
            System.err.println("spamtrap-agent: refusing to start: " + e.getMessage());
            System.exit(2);
            return;
        } catch (Exception e) {
            System.err.println("spamtrap-agent: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            stopped.countDown();
        }, "agent-shutdown"));
        stopped.await();
    }
}
