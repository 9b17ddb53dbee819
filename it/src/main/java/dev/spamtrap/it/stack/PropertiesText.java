package dev.spamtrap.it.stack;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Edits the text of a {@code .properties} file in place, keeping its comments and order. */
public final class PropertiesText {
    private PropertiesText() {
    }

    /**
     * Sets {@code key} (written {@code key=value} or {@code key = value}) on its first uncommented line, or
     * appends it; a null {@code value} removes the key.
     */
    public static String set(String properties, String key, String value) {
        Pattern line = Pattern.compile("^\\s*" + Pattern.quote(key) + "\\s*[=:].*");
        List<String> out = new ArrayList<>();
        boolean done = false;
        for (String l : properties.split("\n", -1)) {
            if (line.matcher(l).matches()) {
                if (!done && value != null) {
                    out.add(key + "=" + value);
                }
                done = true;
            } else {
                out.add(l);
            }
        }
        if (!done && value != null) {
            out.add(key + "=" + value);
        }
        return String.join("\n", out);
    }
}
