package dev.spamtrap.core.export;

import dev.spamtrap.core.admin.OffenderSummary;

import java.util.List;

/** The offender list as plain text, one address or prefix per line (for Postfix cidr tables, ipset restore scripts, ...). */
public final class PlainList {
    private PlainList() {
    }

    public static String render(List<OffenderSummary> offenders) {
        StringBuilder sb = new StringBuilder();
        for (OffenderSummary o : offenders) {
            sb.append(o.key()).append('\n');
        }
        return sb.toString();
    }
}
