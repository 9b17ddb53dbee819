package dev.spamtrap.james.routes;

import org.apache.james.webadmin.Routes;
import spark.Service;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The routes under test in a real Spark/Jetty service on a random port, spoken to over HTTP. */
final class RouteServer implements AutoCloseable {
    private final Service service = Service.ignite().ipAddress("127.0.0.1").port(0);
    private final HttpClient http = HttpClient.newHttpClient();

    RouteServer(Routes... routes) {
        for (Routes r : routes) {
            r.define(service);
        }
        service.init();
        service.awaitInitialization();
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    HttpResponse<String> put(String path, String body) {
        return send(HttpRequest.newBuilder(uri(path)).PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    HttpResponse<String> post(String path, String body) {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    HttpResponse<String> delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + service.port() + path);
    }

    private HttpResponse<String> send(HttpRequest.Builder b) {
        try {
            return http.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        service.stop();
        service.awaitStop();
    }
}
