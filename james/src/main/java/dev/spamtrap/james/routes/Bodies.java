package dev.spamtrap.james.routes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import spark.Request;

import java.io.IOException;
import java.util.Optional;

/** The optional JSON bodies of PUT requests, e.g. {@code {"comment": "seeded on the web site"}}. */
final class Bodies {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Bodies() {
    }

    static String comment(Request request) {
        return field(request, "comment").orElse(null);
    }

    static Optional<String> field(Request request, String name) {
        String body = request.body();
        if (body == null || body.isBlank()) {
            return Optional.empty();
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(body);
        } catch (IOException e) {
            throw AdminCalls.badRequest("the body is not JSON: " + e.getMessage().split("\n")[0]);
        }
        if (!node.isObject()) {
            throw AdminCalls.badRequest("the body must be a JSON object");
        }
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (!v.isTextual()) {
            throw AdminCalls.badRequest("'" + name + "' must be a string");
        }
        return Optional.of(v.asText());
    }
}
