package dev.spamtrap.it.admin;

import dev.spamtrap.it.RealJames;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spamtrap routes behind James's own WebAdmin JWT authentication (webadmin.properties {@code jwt.enabled=true},
 * {@code jwt.publickeypem.url}), on a real James: without a token, with a token of another key and with a token
 * lacking {@code "admin": true}, every route answers 401 and changes nothing; with an administrator's token it works.
 * The tokens are RS256, made here with the JDK as any identity provider would.
 */
class WebAdminJwtTest {
    /** Every spamtrap route: method, path, body. */
    private static final List<String[]> ROUTES = List.of(
        new String[] {"GET", "/spamtrap/traps", null},
        new String[] {"GET", "/spamtrap/traps/check?address=someone@example.com", null},
        new String[] {"PUT", "/spamtrap/traps/jwt-trap@example.com", ""},
        new String[] {"DELETE", "/spamtrap/traps/jwt-trap@example.com", null},
        new String[] {"POST", "/spamtrap/traps?action=import", "jwt-import@example.com\n"},
        new String[] {"GET", "/spamtrap/offenders", null},
        new String[] {"GET", "/spamtrap/offenders/198.51.100.9", null},
        new String[] {"PUT", "/spamtrap/offenders/198.51.100.9?lifetime=1h", ""},
        new String[] {"DELETE", "/spamtrap/offenders/198.51.100.9", null},
        new String[] {"GET", "/spamtrap/allowlist", null},
        new String[] {"PUT", "/spamtrap/allowlist/192.0.2.0%2F24", ""},
        new String[] {"DELETE", "/spamtrap/allowlist/192.0.2.0%2F24", null},
        new String[] {"GET", "/spamtrap/status", null},
        new String[] {"GET", "/spamtrap/export/plain", null},
        new String[] {"GET", "/spamtrap/export/rbldnsd", null});

    private static final KeyPair JAMES_KEY = rsaKeyPairOrFail();

    @RegisterExtension
    static final RealJames james = RealJames.named("webadmin-jwt")
        .with(j -> j.edit("jwt_publickey", s -> publicKeyPem(JAMES_KEY))
            .edit("webadmin.properties", s -> s + "\njwt.enabled=true\njwt.publickeypem.url=file://conf/jwt_publickey\n"));

    private static String publicKeyPem(KeyPair key) {
        return "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getPublic().getEncoded())
            + "\n-----END PUBLIC KEY-----\n";
    }

    private static KeyPair rsaKeyPairOrFail() {
        try {
            return rsaKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void everyRouteRefusesACallWithoutAnAdministratorsToken() throws GeneralSecurityException {
        String otherKeysToken = token(rsaKeyPair().getPrivate(), "{\"sub\":\"admin@example.com\",\"admin\":true}");
        String notAdminToken = token(JAMES_KEY.getPrivate(), "{\"sub\":\"alice@example.com\",\"admin\":false}");
        List<WebAdmin> callers = List.of(new WebAdmin(james.webAdminPort()), new WebAdmin(james.webAdminPort(), otherKeysToken),
            new WebAdmin(james.webAdminPort(), notAdminToken), new WebAdmin(james.webAdminPort(), "not.a.token"));
        List<String> answered = new ArrayList<>();
        for (WebAdmin caller : callers) {
            for (String[] r : ROUTES) {
                HttpResponse<String> response = caller.request(r[0], r[1], r[2]);
                if (response.statusCode() != 401) {
                    answered.add(r[0] + " " + r[1] + " -> " + response.statusCode());
                }
            }
        }
        assertThat(answered).as("routes answered without an administrator's token").isEmpty();

        WebAdmin admin = new WebAdmin(james.webAdminPort(), adminToken());
        assertThat(admin.request("GET", "/spamtrap/allowlist", null).body()).doesNotContain("192.0.2.0/24");
        assertThat(admin.request("GET", "/spamtrap/offenders/198.51.100.9", null).statusCode()).isEqualTo(404);
        assertThat(admin.request("GET", "/spamtrap/traps", null).body()).doesNotContain("jwt-trap@example.com", "jwt-import");
    }

    @Test
    void anAdministratorsTokenReachesEveryRoute() throws GeneralSecurityException {
        WebAdmin admin = new WebAdmin(james.webAdminPort(), adminToken());
        List<String> refused = new ArrayList<>();
        for (String[] r : ROUTES) {
            HttpResponse<String> response = admin.request(r[0], r[1], r[2]);
            if (response.statusCode() == 401 || response.statusCode() == 403 || response.statusCode() >= 500) {
                refused.add(r[0] + " " + r[1] + " -> " + response.statusCode() + " " + response.body());
            }
        }
        assertThat(refused).isEmpty();

        assertThat(admin.request("PUT", "/spamtrap/offenders/198.51.100.10?lifetime=1h", "").statusCode()).isEqualTo(204);
        assertThat(admin.request("GET", "/spamtrap/offenders/198.51.100.10", null).statusCode()).isEqualTo(200);
        assertThat(admin.request("DELETE", "/spamtrap/offenders/198.51.100.10", null).statusCode()).isEqualTo(204);
    }

    private static String adminToken() throws GeneralSecurityException {
        return token(JAMES_KEY.getPrivate(), "{\"sub\":\"admin@example.com\",\"admin\":true}");
    }

    private static KeyPair rsaKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static String token(PrivateKey key, String claims) throws GeneralSecurityException {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
            + "." + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        Signature rs256 = Signature.getInstance("SHA256withRSA");
        rs256.initSign(key);
        rs256.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + b64.encodeToString(rs256.sign());
    }
}
