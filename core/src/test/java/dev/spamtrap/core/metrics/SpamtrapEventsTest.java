package dev.spamtrap.core.metrics;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class SpamtrapEventsTest {
    static final Pattern FIELD = Pattern.compile(" ([a-z]+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    static Map<String, String> parse(String line) {
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher m = FIELD.matcher(line);
        int end = line.indexOf(' ', "spamtrap ".length());
        while (m.find()) {
            assertThat(m.start()).as("fields follow one another: " + line).isEqualTo(end);
            assertThat(fields.put(m.group(1), m.group(2))).as("field " + m.group(1) + " once: " + line).isNull();
            end = m.end();
        }
        assertThat(end).as("nothing after the last field: " + line).isEqualTo(line.length());
        return fields;
    }

    @Test
    void noClientTextAddsAField() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("client", "192.0.2.7");
        f.put("trap", "trap@example.com");
        f.put("helo", "x client=6.6.6.6");
        f.put("from", "a\" client=\"6.6.6.6\\");
        String line = SpamtrapEvents.line("hit", f);
        assertThat(line).startsWith("spamtrap hit client=\"192.0.2.7\" ");
        assertThat(line.split("client=\"", -1)).hasSize(2);
        Map<String, String> parsed = parse(line);
        assertThat(parsed).containsOnlyKeys("client", "trap", "helo", "from");
        assertThat(parsed.get("client")).isEqualTo("192.0.2.7");
        assertThat(parsed.get("helo")).isEqualTo("x client=6.6.6.6");
    }

    @Test
    void controlCharactersAndLengthAreCleaned() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("client", "192.0.2.7");
        f.put("helo", "a\r\nspamtrap hit client=\"6.6.6.6\"" + "x".repeat(500));
        String line = SpamtrapEvents.line("hit", f);
        assertThat(line).doesNotContain("\n").doesNotContain("\r");
        assertThat(parse(line)).containsOnlyKeys("client", "helo");
        assertThat(line.length()).isLessThan(320);
    }

    @Test
    void eventsCountTheirMetricAndLeaveTheLineToTheWriter() {
        int[] counts = new int[3];
        SpamtrapMetrics metrics = new SpamtrapMetrics() {
            @Override
            public void hit(String kind) {
                counts[0]++;
            }

            @Override
            public void refusal(String how) {
            }

            @Override
            public void backscatter() {
                counts[1]++;
            }

            @Override
            public void exemptHit(String why) {
                counts[2]++;
            }
        };
        java.util.List<Runnable> queued = new java.util.ArrayList<>();
        SpamtrapEvents events = new SpamtrapEvents(metrics, queued::add);
        events.hit("192.0.2.7", "trap@example.com", "ADDRESS", "h", "f");
        events.backscatter("192.0.2.8", "trap@example.com", "h");
        events.exemptHit("192.0.2.9", "authenticated", "alice@example.com", "trap@example.com", "alice@example.com");
        assertThat(counts).containsExactly(1, 1, 1);
        assertThat(queued).as("lines are left to the writer, not written by the caller").hasSize(3);
    }
}
