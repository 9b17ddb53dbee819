package dev.spamtrap.core.runtime;

/** A store connection that is always there, for tests whose fake store answers at once. */
final class AlwaysConnected implements Spamtrap.Connector {
    static final AlwaysConnected CONNECTOR = new AlwaysConnected();

    private AlwaysConnected() {
    }

    @Override
    public boolean isConnected() {
        return true;
    }

    @Override
    public void connect() {
    }
}
