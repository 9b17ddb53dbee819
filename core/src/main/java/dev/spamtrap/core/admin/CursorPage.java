package dev.spamtrap.core.admin;

import java.util.List;
import java.util.Optional;

/** A page of a listing read in the store's order, and the opaque cursor that continues it (empty at the end). */
public final class CursorPage<T> {
    private final List<T> items;
    private final String next;

    public CursorPage(List<T> items, String next) {
        this.items = List.copyOf(items);
        this.next = next;
    }

    /** The error for a cursor this server did not give (a client's typo or a forged one). */
    public static IllegalArgumentException notACursor(String cursor) {
        return new IllegalArgumentException("'cursor' is not a cursor this server gave: '" + cursor + "'");
    }

    public List<T> items() { return items; }
    public Optional<String> next() { return Optional.ofNullable(next); }
}
