package dev.spamtrap.it.deploy;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.DockerComposeContainer;
import org.testcontainers.containers.ExecInContainerPattern;

import java.io.File;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The repository's unchanged docker-compose.yml brought up by Testcontainers with the local docker-compose
 * (images are built here, none pulled), and what the test reads of it through the Docker API: containers by
 * service, their state and mounts, exec, and what a {@code down -v} leaves behind.
 */
final class ComposeStack implements AutoCloseable {
    static final String PROJECT_LABEL = "com.docker.compose.project";
    static final String SERVICE_LABEL = "com.docker.compose.service";

    private final String identifier;
    private final DockerComposeContainer<?> compose;

    ComposeStack(File composeFile, String identifier, Map<String, String> env) {
        this.identifier = identifier;
        this.compose = new DockerComposeContainer<>(composeFile, identifier)
            .withLocalCompose(true)
            .withPull(false)
            .withBuild(true)
            .withRemoveVolumes(true)
            .withEnv(env)
            .withStartupTimeout(Duration.ofMinutes(15));
    }

    static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    /** {@code docker-compose up -d --build}. */
    void up() {
        compose.start();
    }

    /** {@code docker-compose down -v}: containers, networks and the stack's volumes. */
    void down() {
        compose.stop();
    }

    /** The compose project Testcontainers named (the identifier and a random suffix), from the containers' labels. */
    String project() {
        return containers().stream().map(c -> c.getLabels().get(PROJECT_LABEL)).findFirst()
            .orElseThrow(() -> new IllegalStateException("no container of the stack '" + identifier + "*' exists"));
    }

    /** The stack's containers, running or not (a project's label starts with the identifier). */
    List<Container> containers() {
        return docker().listContainersCmd().withShowAll(true).exec().stream()
            .filter(c -> c.getLabels() != null && c.getLabels().getOrDefault(PROJECT_LABEL, "").startsWith(identifier))
            .collect(Collectors.toList());
    }

    /** The container id of a service. */
    String container(String service) {
        return containers().stream().filter(c -> service.equals(c.getLabels().get(SERVICE_LABEL))).map(Container::getId)
            .findFirst().orElseThrow(() -> new IllegalStateException("the stack has no container for service " + service));
    }

    static InspectContainerResponse inspect(String id) {
        return docker().inspectContainerCmd(id).exec();
    }

    void stop(String service) {
        docker().stopContainerCmd(container(service)).withTimeout(30).exec();
    }

    static ExecResult exec(String containerId, String... command) {
        try {
            return ExecInContainerPattern.execInContainer(docker(), inspect(containerId), command);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("exec " + String.join(" ", command) + " in " + containerId + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The last lines a container wrote, for failure messages. */
    String logs(String service) {
        StringBuilder out = new StringBuilder();
        try {
            docker().logContainerCmd(container(service)).withStdOut(true).withStdErr(true).withTail(80)
                .exec(new ResultCallback.Adapter<Frame>() {
                    @Override
                    public void onNext(Frame frame) {
                        out.append(new String(frame.getPayload(), java.nio.charset.StandardCharsets.UTF_8));
                    }
                }).awaitCompletion(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out.toString();
    }

    /** Names of the volumes mounted by the stack's containers. */
    List<String> volumes() {
        return containers().stream().flatMap(c -> inspect(c.getId()).getMounts().stream())
            .map(InspectContainerResponse.Mount::getName).filter(n -> n != null && !n.isBlank()).distinct().collect(Collectors.toList());
    }

    /** Networks labelled with the project. */
    static List<String> networks(String project) {
        return docker().listNetworksCmd().exec().stream()
            .filter(n -> n.getLabels() != null && project.equals(n.getLabels().get(PROJECT_LABEL)))
            .map(n -> n.getName()).collect(Collectors.toList());
    }

    static boolean volumeExists(String name) {
        try {
            docker().inspectVolumeCmd(name).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    @Override
    public void close() {
        down();
    }
}
