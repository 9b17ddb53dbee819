package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ReplicaBatchesTest {
    /** Replica sets by key: "a…" keys on one set, "b…" keys on another, "?…" keys unknown. */
    private static Object replicas(ByteBuffer key) {
        if (key == null) {
            return null;
        }
        String k = StandardCharsets.UTF_8.decode(key.duplicate()).toString();
        return k.startsWith("?") ? null : "replicas-" + k.charAt(0);
    }

    private static ByteBuffer key(String k) {
        return ByteBuffer.wrap(k.getBytes(StandardCharsets.UTF_8));
    }

    private static List<BatchableStatement<?>> rows(String key, int n) {
        List<BatchableStatement<?>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(SimpleStatement.newInstance("INSERT " + key + " " + i));
        }
        return rows;
    }

    private static List<List<String>> tagsOf(ReplicaBatches<String> b) {
        List<List<String>> tags = new ArrayList<>();
        for (ReplicaBatches.Batch<String> batch : b.batches()) {
            tags.add(batch.tags());
        }
        return tags;
    }

    @Test
    void neverMixesPartitionsOfDifferentReplicas() {
        ReplicaBatches<String> b = new ReplicaBatches<>(ReplicaBatchesTest::replicas, 8, 16, 4096);
        for (String k : List.of("a1", "b1", "a2", "b2", "a3")) {
            b.add(k, key(k), rows(k, 2), 200);
        }
        Map<Character, List<String>> byFirst = new HashMap<>();
        for (ReplicaBatches.Batch<String> batch : b.batches()) {
            char first = batch.tags().get(0).charAt(0);
            assertThat(batch.tags()).allMatch(t -> t.charAt(0) == first);
            assertThat(byFirst.put(first, batch.tags())).as("one batch per replica set here").isNull();
        }
        assertThat(byFirst.get('a')).containsExactly("a1", "a2", "a3");
        assertThat(byFirst.get('b')).containsExactly("b1", "b2");
        ReplicaBatches.Batch<String> a = b.batches().get(0);
        assertThat(a.statement()).isInstanceOf(BatchStatement.class);
        assertThat(((BatchStatement) a.statement()).size()).isEqualTo(6);
    }

    @Test
    void closesABatchAtItsPartitionOrRowLimit() {
        ReplicaBatches<String> byGroups = new ReplicaBatches<>(ReplicaBatchesTest::replicas, 3, 100, 4096);
        for (int i = 0; i < 7; i++) {
            byGroups.add("a" + i, key("a" + i), rows("a" + i, 1), 100);
        }
        assertThat(byGroups.batches()).extracting(x -> x.tags().size()).containsExactly(3, 3, 1);

        ReplicaBatches<String> byRows = new ReplicaBatches<>(ReplicaBatchesTest::replicas, 8, 5, 4096);
        byRows.add("a1", key("a1"), rows("a1", 2), 200);
        byRows.add("a2", key("a2"), rows("a2", 2), 200);
        byRows.add("a3", key("a3"), rows("a3", 2), 200); // 6 > 5: a new batch
        byRows.add("a4", key("a4"), rows("a4", 9), 900); // larger than a batch on its own: alone
        byRows.add("a5", key("a5"), rows("a5", 1), 100);
        assertThat(tagsOf(byRows)).containsExactly(List.of("a1", "a2"), List.of("a3"), List.of("a4"), List.of("a5"));
    }

    @Test
    void closesABatchAtItsByteBoundAndSendsALargerGroupAlone() {
        // a client's HELO and MAIL FROM can be several KB: a multi-partition batch above 50 KiB is refused outright
        ReplicaBatches<String> b = new ReplicaBatches<>(ReplicaBatchesTest::replicas, 8, 16, 4096);
        b.add("a1", key("a1"), rows("a1", 2), 1500);
        b.add("a2", key("a2"), rows("a2", 2), 1500);
        b.add("a3", key("a3"), rows("a3", 2), 1500); // 4,500 > 4,096: a new batch
        b.add("a4", key("a4"), rows("a4", 2), 20_000); // larger than any batch: alone (one mutation)
        b.add("a5", key("a5"), rows("a5", 2), 100);
        assertThat(tagsOf(b)).containsExactly(List.of("a1", "a2"), List.of("a3"), List.of("a4"), List.of("a5"));
    }

    @Test
    void aPartitionOfUnknownReplicasGoesAloneAndASingleRowUnbatched() {
        ReplicaBatches<String> b = new ReplicaBatches<>(ReplicaBatchesTest::replicas, 8, 16, 4096);
        b.add("?1", key("?1"), rows("?1", 1), 100);
        b.add("?2", key("?2"), rows("?2", 2), 200);
        b.add("x", null, rows("x", 1), 100);
        assertThat(tagsOf(b)).containsExactly(List.of("?1"), List.of("?2"), List.of("x"));
        assertThat(b.batches().get(0).statement()).isInstanceOf(SimpleStatement.class);
        assertThat(b.batches().get(1).statement()).isInstanceOf(BatchStatement.class);
    }
}
