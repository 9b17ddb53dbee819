package dev.spamtrap.it.stack;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The few James WebAdmin calls the demo and tests need. */
public final class WebAdmin {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String bearerToken;

    public WebAdmin(int port) {
        this(port, null);
    }

    /** Calls carrying {@code Authorization: Bearer TOKEN}, for a WebAdmin with JWT authentication on. */
    public WebAdmin(int port, String bearerToken) {
        this.base = "http://127.0.0.1:" + port;
        this.bearerToken = bearerToken;
    }

    public void addUser(String user, String password) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/users/" + user))
            .PUT(HttpRequest.BodyPublishers.ofString("{\"password\":\"" + password + "\"}")));
        if (r.statusCode() != 204 && r.statusCode() != 409) {
            throw new IllegalStateException("PUT /users/" + user + " -> " + r.statusCode() + " " + r.body());
        }
    }

    /**
     * Keys of the mails in a repository, as James's /mailRepositories route returns them (JSON array text).
     * {@code repositoryPath} is the path without protocol, e.g. {@code var/mail/spamtrap}.
     */
    public String listMails(String repositoryPath) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/mailRepositories/" + encode(repositoryPath) + "/mails")).GET());
        if (r.statusCode() == 404) {
            return "[]";
        }
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET mails of " + repositoryPath + " -> " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    public String getMail(String repositoryPath, String key) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/mailRepositories/" + encode(repositoryPath) + "/mails/" + encode(key)))
            .header("Accept", "message/rfc822").GET());
        return r.body();
    }

    /** Messages in a user's mailbox (0 while the mailbox does not exist yet). */
    public long messageCount(String user, String mailbox) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/users/" + encode(user) + "/mailboxes/" + encode(mailbox) + "/messageCount")).GET());
        if (r.statusCode() == 404) {
            return 0;
        }
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET messageCount of " + user + " " + mailbox + " -> " + r.statusCode() + " " + r.body());
        }
        return Long.parseLong(r.body().strip());
    }

    public String get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET()).body();
    }

    /** Any call, for tests of the routes themselves: the status, the body and the headers as they came. */
    public HttpResponse<String> request(String method, String path, String body) {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
        return send(HttpRequest.newBuilder(URI.create(base + path)).method(method, publisher));
    }

    public String base() {
        return base;
    }

    public static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            if (bearerToken != null) {
                request.header("Authorization", "Bearer " + bearerToken);
            }
            return http.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("WebAdmin " + base + " unreachable: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
