package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;

/** Walking every page of an asynchronous result; a row the visitor cannot take is logged and skipped, never fatal. */
final class Paging {
    private static final Logger LOGGER = LoggerFactory.getLogger(Paging.class);

    private Paging() {
    }

    static CompletionStage<Void> eachRow(AsyncResultSet rs, Consumer<Row> visitor) {
        for (Row row : rs.currentPage()) {
            try {
                visitor.accept(row);
            } catch (RuntimeException e) {
                LOGGER.error("Cassandra row skipped: {}", e.toString());
            }
        }
        if (rs.hasMorePages()) {
            return rs.fetchNextPage().thenCompose(next -> eachRow(next, visitor));
        }
        return CompletableFuture.completedFuture(null);
    }

    static <T> CompletionStage<List<T>> collect(CompletionStage<AsyncResultSet> rs, Function<Row, T> mapper) {
        List<T> out = new ArrayList<>();
        return rs.thenCompose(r -> eachRow(r, row -> out.add(mapper.apply(row)))).thenApply(x -> out);
    }
}
