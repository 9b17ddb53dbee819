package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import org.apache.james.webadmin.utils.ErrorResponder;
import org.eclipse.jetty.http.HttpStatus;
import spark.HaltException;
import spark.Request;

import javax.inject.Provider;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What every spamtrap route shares: reaching the admin facade, waiting for its answer (WebAdmin runs on
 * Jetty worker threads, never on the SMTP event loop), and turning failures into James's JSON errors:
 * a bad value is a 400 naming it, a store that does not answer a 503.
 */
final class AdminCalls {
    static final Duration STORE_WAIT = Duration.ofSeconds(20);
    static final int DEFAULT_LIMIT = 100;

    private final Provider<SpamtrapAdmin> admin;

    AdminCalls(Provider<SpamtrapAdmin> admin) {
        this.admin = admin;
    }

    SpamtrapAdmin admin() {
        try {
            return admin.get();
        } catch (RuntimeException e) {
            throw unavailable("the spamtrap admin is not available: " + rootMessage(e));
        }
    }

    <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(STORE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("interrupted");
        } catch (TimeoutException e) {
            throw unavailable("the offender store did not answer within " + STORE_WAIT.toSeconds() + "s");
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof IllegalArgumentException) {
                throw badRequest(cause.getMessage());
            }
            throw unavailable("the offender store failed: " + rootMessage(cause));
        }
    }

    /** Runs an admin call, mapping a synchronous IllegalArgumentException to a 400 too. */
    <T> T call(java.util.function.Function<SpamtrapAdmin, CompletionStage<T>> f) {
        SpamtrapAdmin a = admin();
        CompletionStage<T> stage;
        try {
            stage = f.apply(a);
        } catch (IllegalArgumentException e) {
            throw badRequest(e.getMessage());
        }
        return await(stage);
    }

    static int offset(Request request) {
        return nonNegative(request, "offset", 0);
    }

    static int limit(Request request) {
        int limit = nonNegative(request, "limit", DEFAULT_LIMIT);
        if (limit == 0) {
            throw badRequest("'limit' must be at least 1");
        }
        return limit;
    }

    private static int nonNegative(Request request, String name, int dflt) {
        String raw = request.queryParams(name);
        if (raw == null || raw.isEmpty()) {
            return dflt;
        }
        try {
            int v = Integer.parseInt(raw.trim());
            if (v < 0) {
                throw badRequest("'" + name + "' must not be negative: '" + raw + "'");
            }
            return v;
        } catch (NumberFormatException e) {
            throw badRequest("'" + name + "' is not a number: '" + raw + "'");
        }
    }

    static String requiredQuery(Request request, String name) {
        return optionalQuery(request, name).orElseThrow(() -> badRequest("query parameter '" + name + "' is required"));
    }

    static Optional<String> optionalQuery(Request request, String name) {
        return Optional.ofNullable(request.queryParams(name)).map(String::trim).filter(s -> !s.isEmpty());
    }

    /** A path parameter, percent-decoded once more so that keys such as {@code 2001:db8::%2F64} arrive whole. */
    static String pathParam(Request request, String name) {
        String raw = request.params(name);
        if (raw == null || raw.isBlank()) {
            throw badRequest("path parameter '" + name.replace(":", "") + "' is required");
        }
        return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8).trim();
    }

    static HaltException badRequest(String message) {
        return ErrorResponder.builder()
            .statusCode(HttpStatus.BAD_REQUEST_400)
            .type(ErrorResponder.ErrorType.INVALID_ARGUMENT)
            .message(message == null ? "invalid argument" : message)
            .haltError();
    }

    static HaltException notFound(String message) {
        return ErrorResponder.builder()
            .statusCode(HttpStatus.NOT_FOUND_404)
            .type(ErrorResponder.ErrorType.NOT_FOUND)
            .message(message)
            .haltError();
    }

    static HaltException unavailable(String message) {
        return ErrorResponder.builder()
            .statusCode(HttpStatus.SERVICE_UNAVAILABLE_503)
            .type(ErrorResponder.ErrorType.SERVER_ERROR)
            .message(message)
            .haltError();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
