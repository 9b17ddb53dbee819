package dev.spamtrap.it.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Edits the {@code OffenderConnectHandler} parameters of the sample {@code smtpserver.xml} (tests and benchmark). */
public final class TarpitConf {
    private TarpitConf() {
    }

    /** Sets {@code <name>value</name>} inside the handler's {@code <tarpit>} element. */
    public static String tarpit(String xml, String name, String value) {
        Matcher m = Pattern.compile("(?s)<tarpit>.*?</tarpit>").matcher(xml);
        if (!m.find()) {
            throw new IllegalArgumentException("smtpserver.xml has no <tarpit> element");
        }
        String block = m.group();
        String changed = block.replaceAll("<" + name + ">[^<]*</" + name + ">", "<" + name + ">" + value + "</" + name + ">");
        if (changed.equals(block) && !block.contains("<" + name + ">" + value + "</" + name + ">")) {
            changed = block.replace("</tarpit>", "    <" + name + ">" + value + "</" + name + ">\n                </tarpit>");
        }
        return xml.substring(0, m.start()) + changed + xml.substring(m.end());
    }

    /** Sets {@code <mode>} of the handler: tarpit or refuse. */
    public static String mode(String xml, String mode) {
        return xml.replaceFirst("<mode>(tarpit|refuse)</mode>", "<mode>" + mode + "</mode>");
    }

    /** James's reader-idle timeout (seconds) of the SMTP server. */
    public static String connectionTimeout(String xml, int seconds) {
        return xml.replaceFirst("<connectiontimeout>\\d+</connectiontimeout>", "<connectiontimeout>" + seconds + "</connectiontimeout>");
    }

    /** Turns on James's Prometheus route {@code GET /metrics} in webadmin.properties (off by default in James 3.8.1). */
    public static String withMetricsRoute(String properties) {
        if (properties.contains("org.apache.james.webadmin.dropwizard.MetricsRoutes")) {
            return properties;
        }
        return properties.stripTrailing() + "\nextensions.routes=org.apache.james.webadmin.dropwizard.MetricsRoutes\n";
    }

    /**
     * James 3.8.1 looks up the client's host name (reverse DNS, blocking) on the SMTP event loop for every new
     * connection, to put it in the log context. Where the resolver is slow that stalls every client on the
     * loop, tarpitted or not, for seconds; {@code james.protocols.mdc.hostname=false} turns it off.
     */
    public static String withoutReverseDnsInLogContext(String jvmProperties) {
        if (jvmProperties.contains("james.protocols.mdc.hostname")) {
            return jvmProperties;
        }
        return jvmProperties.stripTrailing() + "\njames.protocols.mdc.hostname=false\n";
    }
}
