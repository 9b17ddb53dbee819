package dev.spamtrap.agent.backend;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.spamtrap.agent.net.Prefix;

import java.io.IOException;
import java.util.Map;

/**
 * Reads the elements of one set from {@code nft -j list set ...} output, streaming (a million elements make a
 * 40 MB document; no tree of it is built). An element is a plain value ({@code "192.0.2.7"}, no timeout) or
 * {@code {"elem": {"val": V, "timeout": s, "expires": s, ...}}}, where V is an address or
 * {@code {"prefix": {"addr": a, "len": n}}}. Ranges that are not prefixes are never written by the agent and are
 * counted as skipped.
 */
final class NftSetListing {
    /** Seconds left for an element without a timeout. */
    static final long NO_TIMEOUT = Long.MAX_VALUE;
    private static final JsonFactory JSON = new JsonFactory();

    private NftSetListing() {
    }

    /**
     * Puts each element of the listing into {@code into}: prefix and seconds left (or {@link #NO_TIMEOUT}).
     *
     * @param addressLength the prefix length of a plain address in this set (64 for block6, whose elements are /64
     *                      networks), or 0 to keep it a host address
     * @return the number of elements skipped (ranges that are not prefixes)
     */
    static int read(String json, int addressLength, Map<Prefix, Long> into) throws IOException {
        int skipped = 0;
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t == JsonToken.FIELD_NAME && "elem".equals(p.currentName()) && p.nextToken() == JsonToken.START_ARRAY) {
                    while ((t = p.nextToken()) != JsonToken.END_ARRAY && t != null) {
                        if (!element(p, t, addressLength, into)) {
                            skipped++;
                        }
                    }
                }
            }
        }
        return skipped;
    }

    static boolean element(JsonParser p, JsonToken t, int addressLength, Map<Prefix, Long> into) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            into.put(plain(p.getText(), addressLength), NO_TIMEOUT);
            return true;
        }
        if (t != JsonToken.START_OBJECT) {
            p.skipChildren();
            return false;
        }
        Prefix prefix = null;
        long timeout = NO_TIMEOUT;
        long expires = -1;
        boolean ok = true;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String outer = p.currentName();
            if (!"elem".equals(outer) || p.nextToken() != JsonToken.START_OBJECT) {
                p.nextToken();
                p.skipChildren();
                continue;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                if ("val".equals(field)) {
                    if (v == JsonToken.VALUE_STRING) {
                        prefix = plain(p.getText(), addressLength);
                    } else {
                        prefix = prefixObject(p);
                        ok = prefix != null;
                    }
                } else if ("timeout".equals(field) && v == JsonToken.VALUE_NUMBER_INT) {
                    timeout = p.getLongValue();
                } else if ("expires".equals(field) && v == JsonToken.VALUE_NUMBER_INT) {
                    expires = p.getLongValue();
                } else {
                    p.skipChildren();
                }
            }
        }
        if (!ok || prefix == null) {
            return false;
        }
        into.put(prefix, expires >= 0 ? expires : timeout);
        return true;
    }

    /** At a START_OBJECT: {"prefix": {"addr": a, "len": n}} gives a prefix; anything else (a range) null, skipped. */
    private static Prefix prefixObject(JsonParser p) throws IOException {
        Prefix out = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String kind = p.currentName();
            JsonToken v = p.nextToken();
            if (!"prefix".equals(kind) || v != JsonToken.START_OBJECT) {
                p.skipChildren();
                continue;
            }
            String addr = null;
            int len = -1;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken fv = p.nextToken();
                if ("addr".equals(f) && fv == JsonToken.VALUE_STRING) {
                    addr = p.getText();
                } else if ("len".equals(f) && fv == JsonToken.VALUE_NUMBER_INT) {
                    len = p.getIntValue();
                } else {
                    p.skipChildren();
                }
            }
            if (addr != null && len >= 0) {
                out = Prefix.parse(addr + "/" + len);
            }
        }
        return out;
    }

    private static Prefix plain(String address, int addressLength) {
        Prefix host = Prefix.parse(address);
        return addressLength > 0 && host.length() > addressLength ? host.truncate(addressLength) : host;
    }
}
