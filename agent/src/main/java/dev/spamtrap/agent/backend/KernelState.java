package dev.spamtrap.agent.backend;

import dev.spamtrap.agent.net.Prefix;

import java.util.Map;
import java.util.Set;

/**
 * What the drift check found in the kernel: whether the table is there, which of the agent's sets and rules are
 * missing, and every element with its seconds left. Compared with the agent's view by the applier, which puts back
 * only what is missing.
 */
public final class KernelState {
    private final boolean tablePresent;
    private final Set<String> missingObjects;
    private final Map<Prefix, Long> elements;

    public KernelState(boolean tablePresent, Set<String> missingObjects, Map<Prefix, Long> elements) {
        this.tablePresent = tablePresent;
        this.missingObjects = Set.copyOf(missingObjects);
        this.elements = elements;
    }

    public static KernelState tableGone() {
        return new KernelState(false, Set.of(), Map.of());
    }

    public boolean tablePresent() {
        return tablePresent;
    }

    /** e.g. "set wide4", "chain prerouting", "rule @block4"; empty when every object is there. */
    public Set<String> missingObjects() {
        return missingObjects;
    }

    /** Every element of the agent's sets, with its seconds left. */
    public Map<Prefix, Long> elements() {
        return elements;
    }
}
