package dev.spamtrap.core.admin;

import java.util.List;

/** One page of a listing: the items from {@code offset}, at most {@code limit}, and whether more follow. */
public final class Page<T> {
    private final List<T> items;
    private final int offset;
    private final boolean more;

    public Page(List<T> items, int offset, boolean more) {
        this.items = List.copyOf(items);
        this.offset = offset;
        this.more = more;
    }

    public List<T> items() { return items; }
    public int offset() { return offset; }
    public boolean hasMore() { return more; }
}
