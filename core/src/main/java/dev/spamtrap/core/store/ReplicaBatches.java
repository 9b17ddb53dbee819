package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.metadata.TokenMap;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Gathers the writes of several partitions into unlogged batches whose partitions all have the same replicas. Such a
 * batch is one request instead of several, and its coordinator (a replica, by the driver's token-aware routing)
 * applies it and sends each other replica one message for the lot, as it would for one partition. Partitions on
 * different replicas are never mixed: that is the batch that only moves the work to the coordinator.
 * <p>
 * A batch is closed at {@code maxGroups} partitions (Cassandra warns above 10 per unlogged batch), {@code maxRows}
 * statements or {@code maxBytes} of data. The byte bound matters: Cassandra refuses a multi-partition batch above
 * 50 KiB ({@code batch_size_fail_threshold}), and a client chooses its HELO and MAIL FROM, several KB each, so a
 * batch that ignored sizes could be refused again at every replay. A group larger than the bound goes alone (one
 * partition is one mutation, which the size check exempts). Without a token map (the driver has none yet, or it
 * is disabled) every group goes alone.
 *
 * @param <T> what the caller tags each group of rows with, handed back with the batch that carries it
 */
final class ReplicaBatches<T> {
    /** One request: the tags of the groups it carries and their rows. */
    static final class Batch<T> {
        private final List<T> tags = new ArrayList<>();
        private final List<BatchableStatement<?>> rows = new ArrayList<>();
        private long bytes;

        List<T> tags() {
            return tags;
        }

        /** The rows as one statement ({@link Statements#oneRequest}). */
        Statement<?> statement() {
            return Statements.oneRequest(rows);
        }
    }

    private final Function<ByteBuffer, Object> replicasOf;
    private final int maxGroups;
    private final int maxRows;
    private final long maxBytes;
    private final Map<Object, Batch<T>> open = new LinkedHashMap<>();
    private final List<Batch<T>> closed = new ArrayList<>();

    /**
     * @param replicasOf a partition's serialized key to what identifies its replicas (equal for equal replica sets),
     *                   null when unknown
     */
    ReplicaBatches(Function<ByteBuffer, Object> replicasOf, int maxGroups, int maxRows, long maxBytes) {
        this.replicasOf = replicasOf;
        this.maxGroups = maxGroups;
        this.maxRows = maxRows;
        this.maxBytes = maxBytes;
    }

    /** Groups by the replicas the driver's token map gives for {@code keyspace}; all alone without a token map. */
    static <T> ReplicaBatches<T> of(CqlSession session, String keyspace, int maxGroups, int maxRows, long maxBytes) {
        Optional<TokenMap> tokens = session.getMetadata().getTokenMap();
        CqlIdentifier ks = CqlIdentifier.fromCql(keyspace);
        return new ReplicaBatches<>(key -> {
            if (tokens.isEmpty() || key == null) {
                return null;
            }
            Set<Node> replicas = tokens.get().getReplicas(ks, key);
            return replicas.isEmpty() ? null : replicas;
        }, maxGroups, maxRows, maxBytes);
    }

    /**
     * Adds the rows of one partition ({@code routingKey}, its serialized key), tagged {@code tag}; {@code bytes} is at
     * least the size of the data they write.
     */
    void add(T tag, ByteBuffer routingKey, List<BatchableStatement<?>> rows, long bytes) {
        Object replicas = replicasOf.apply(routingKey);
        Batch<T> batch = replicas == null ? null : open.get(replicas);
        if (batch != null && (batch.tags.size() >= maxGroups || batch.rows.size() + rows.size() > maxRows || batch.bytes + bytes > maxBytes)) {
            closed.add(open.remove(replicas));
            batch = null;
        }
        if (batch == null) {
            batch = new Batch<>();
            if (replicas == null) {
                closed.add(batch);
            } else {
                open.put(replicas, batch);
            }
        }
        batch.tags.add(tag);
        batch.rows.addAll(rows);
        batch.bytes += bytes;
    }

    /** Every batch, the open ones closed. */
    List<Batch<T>> batches() {
        List<Batch<T>> all = new ArrayList<>(closed);
        all.addAll(open.values());
        return all;
    }
}
