package dev.spamtrap.core.store;

import java.util.Objects;

/**
 * One writer of the change feed: a node name and the epoch it started writing under (a new epoch at every start, so
 * its sequence restarts at 1 without ever reusing a number a reader has seen).
 */
public final class FeedSource {
    private final String writer;
    private final String epoch;

    public FeedSource(String writer, String epoch) {
        this.writer = Objects.requireNonNull(writer);
        this.epoch = Objects.requireNonNull(epoch);
    }

    public String writer() { return writer; }
    public String epoch() { return epoch; }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeedSource && ((FeedSource) o).writer.equals(writer) && ((FeedSource) o).epoch.equals(epoch);
    }

    @Override
    public int hashCode() {
        return writer.hashCode() * 31 + epoch.hashCode();
    }

    @Override
    public String toString() {
        return writer + "/" + epoch;
    }
}
