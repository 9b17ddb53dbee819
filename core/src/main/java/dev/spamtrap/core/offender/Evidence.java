package dev.spamtrap.core.offender;

/**
 * What a client told us (HELO, MAIL FROM, the trap address it wrote), made safe to keep, log and show: control
 * characters (terminal escapes in a log viewer, NULs) become {@code ?}, and anything longer than {@link #MAX_CHARS}
 * is cut to that length, ending in {@code ...}. RFC 5321 allows 255 octets for a domain and 256 for a path, so no
 * well-formed value is cut; a client that sends kilobytes of HELO to every trap is not stored at that size a
 * million times over. Applying it twice changes nothing.
 */
public final class Evidence {
    /** The longest value kept, in chars. */
    public static final int MAX_CHARS = 256;
    private static final String CUT = "...";

    private Evidence() {
    }

    public static String clean(String value) {
        if (value == null) {
            return "";
        }
        int end = value.length();
        boolean cut = end > MAX_CHARS;
        if (cut) {
            end = MAX_CHARS - CUT.length();
            if (Character.isHighSurrogate(value.charAt(end - 1))) {
                end--; // never half a pair
            }
        }
        StringBuilder out = null;
        for (int i = 0; i < end; i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                if (out == null) {
                    out = new StringBuilder(end + CUT.length()).append(value, 0, i);
                }
                out.append('?');
            } else if (out != null) {
                out.append(c);
            }
        }
        if (out == null) {
            return cut ? value.substring(0, end) + CUT : value;
        }
        return cut ? out.append(CUT).toString() : out.toString();
    }
}
