package dev.spamtrap.agent.backend;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.spamtrap.agent.net.Prefix;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code nft -j list table inet <table>}: the names of its sets and their elements, its chains, and for each
 * rule of the agent's chain the set it matches ({@code "@block4"}). Streaming, like {@link NftSetListing}.
 */
final class NftTableListing {
    private static final JsonFactory JSON = new JsonFactory();

    final Set<String> sets = new HashSet<>();
    final Set<String> chains = new HashSet<>();
    /** Sets matched by a rule of the chain {@code chain}. */
    final Set<String> ruleSets = new HashSet<>();
    final Map<Prefix, Long> elements = new HashMap<>();

    private NftTableListing() {
    }

    static NftTableListing read(String json, String chain) throws IOException {
        NftTableListing out = new NftTableListing();
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t != JsonToken.FIELD_NAME) {
                    continue;
                }
                String kind = p.currentName();
                if (!"set".equals(kind) && !"chain".equals(kind) && !"rule".equals(kind)) {
                    continue;
                }
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    continue;
                }
                if ("set".equals(kind)) {
                    out.set(p);
                } else if ("chain".equals(kind)) {
                    out.chain(p);
                } else {
                    out.rule(p, chain);
                }
            }
        }
        return out;
    }

    private void set(JsonParser p) throws IOException {
        String name = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            if ("name".equals(f) && v == JsonToken.VALUE_STRING) {
                name = p.getText();
                sets.add(name);
            } else if ("elem".equals(f) && v == JsonToken.START_ARRAY) {
                int addressLength = "block6".equals(name) ? 64 : 0;
                while ((v = p.nextToken()) != JsonToken.END_ARRAY && v != null) {
                    NftSetListing.element(p, v, addressLength, elements);
                }
            } else {
                p.skipChildren();
            }
        }
    }

    private void chain(JsonParser p) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            if ("name".equals(f) && v == JsonToken.VALUE_STRING) {
                chains.add(p.getText());
            } else {
                p.skipChildren();
            }
        }
    }

    private void rule(JsonParser p, String chain) throws IOException {
        String in = null;
        Set<String> matched = new HashSet<>();
        int depth = 1;
        while (depth > 0) {
            JsonToken t = p.nextToken();
            if (t == null) {
                break;
            }
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                depth++;
            } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                depth--;
            } else if (t == JsonToken.VALUE_STRING) {
                String s = p.getText();
                if (depth == 1 && "chain".equals(p.currentName())) {
                    in = s;
                } else if (s.startsWith("@")) {
                    matched.add(s.substring(1));
                }
            }
        }
        if (chain.equals(in)) {
            ruleSets.addAll(matched);
        }
    }
}
