package dev.spamtrap.smtp;

import org.apache.james.core.Username;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.smtp.utils.BaseFakeSMTPSession;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** An SMTP session for hook tests: a client address, attachments by state, an optional login. */
class FakeSession extends BaseFakeSMTPSession {
    private final InetSocketAddress remote;
    private final Map<AttachmentKey<?>, Object> connection = new HashMap<>();
    private final Map<AttachmentKey<?>, Object> transaction = new HashMap<>();
    private Username user;

    FakeSession(String clientIp) {
        this.remote = new InetSocketAddress(clientIp, 40000);
    }

    @Override
    public InetSocketAddress getRemoteAddress() {
        return remote;
    }

    @Override
    public String getSessionID() {
        return "s1";
    }

    @Override
    public Username getUsername() {
        return user;
    }

    @Override
    public void setUsername(Username username) {
        this.user = username;
    }

    private Map<AttachmentKey<?>, Object> map(ProtocolSession.State state) {
        return state == ProtocolSession.State.Connection ? connection : transaction;
    }

    @Override
    public <T> Optional<T> setAttachment(AttachmentKey<T> key, T value, ProtocolSession.State state) {
        return Optional.ofNullable(value == null ? map(state).remove(key) : map(state).put(key, value)).map(key::convert).flatMap(o -> o);
    }

    @Override
    public <T> Optional<T> getAttachment(AttachmentKey<T> key, ProtocolSession.State state) {
        return Optional.ofNullable(map(state).get(key)).flatMap(key::convert);
    }

    @Override
    public <T> Optional<T> removeAttachment(AttachmentKey<T> key, ProtocolSession.State state) {
        return Optional.ofNullable(map(state).remove(key)).flatMap(key::convert);
    }

    @Override
    public void resetState() {
        transaction.clear();
    }
}
