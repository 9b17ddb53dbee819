package dev.spamtrap.core.net;

import dev.spamtrap.core.config.ConfigException;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** CIDR ranges whose clients are never recorded and never refused. Immutable; replaced as a whole on reload. */
public final class Allowlist {
    public static final Allowlist EMPTY = new Allowlist(List.of());

    private final List<CidrRange> ranges;

    public Allowlist(Collection<CidrRange> ranges) {
        this.ranges = List.copyOf(ranges);
    }

    public static Allowlist parse(Path file) {
        try {
            return parse(file.toString(), Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read allowlist: " + e.getMessage(), e);
        }
    }

    public static Allowlist parse(String source, List<String> lines) {
        List<CidrRange> ranges = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            line = line.trim();
            if (line.isEmpty()) {
                continue;
            }
            try {
                ranges.add(CidrRange.parse(line));
            } catch (IllegalArgumentException e) {
                throw ConfigException.atLine(source, i + 1, e.getMessage());
            }
        }
        return new Allowlist(ranges);
    }

    public static Allowlist merge(Allowlist a, Allowlist b) {
        List<CidrRange> all = new ArrayList<>(a.ranges);
        all.addAll(b.ranges);
        return new Allowlist(all);
    }

    public boolean contains(InetAddress address) {
        byte[] raw = address.getAddress();
        for (CidrRange r : ranges) {
            if (r.contains(raw)) {
                return true;
            }
        }
        return false;
    }

    public List<CidrRange> ranges() {
        return ranges;
    }
}
