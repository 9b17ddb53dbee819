package dev.spamtrap.core.offender;

import java.util.Locale;
import java.util.Objects;

/**
 * Why an offender key is listed, carried from the store (column {@code reason}) and the change feed into the
 * connect-time view, the refusal text ({@code %R}), WebAdmin, metrics and events.
 *
 * <p>Two confidence classes: {@link Confidence#TRAP} (a trap hit, a repeat offence, a prefix escalation, a listing by
 * hand: the policy's lifetimes, sent to the firewall agent, exported to the DNSBL) and {@link Confidence#PROTOCOL}
 * (a protocol sensor: a short lifetime, tarpitted or refused at SMTP only, never sent to the firewall agent, never
 * exported unless asked). A trap hit of a client listed by a sensor makes it a trap listing.
 * A third class, {@link Confidence#LIST}, is a client on someone else's list loaded from a file or URL
 * ({@link #list(String)}, label {@code list:<name>}): looked up in the list itself, never stored, sent nor exported.
 *
 * <p>A cause can be <em>observed</em> (a sensor in {@code observe} mode): recorded and reported ("would have refused"),
 * but it refuses, tarpits, blocks and exports nothing.
 *
 * <p>Each cause has a small {@link #code()} (1-31: 1-15, plus 16 when observed) so the view keeps it in 5 bits of an
 * existing word.
 */
public final class Cause {
    /** How much a listing is trusted, and so what it may lead to. */
    public enum Confidence {
        TRAP, PROTOCOL, LIST;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What made the listing. */
    public enum Kind {
        TRAP("trap"), REPEAT("repeat"), PREFIX("prefix-escalation"), MANUAL("manual"), PROTOCOL("protocol"), LIST("list");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** The protocol sensors, in code order (codes 5, 6, 7 ...). */
    static final String[] SENSORS = {"pregreet", "http", "header"};
    private static final int SENSOR_BASE = 5;

    public static final Cause TRAP = new Cause(Kind.TRAP, null, 1);
    public static final Cause REPEAT = new Cause(Kind.REPEAT, null, 2);
    public static final Cause PREFIX = new Cause(Kind.PREFIX, null, 3);
    public static final Cause MANUAL = new Cause(Kind.MANUAL, null, 4);
    private static final int OBSERVED = 16;
    /** The code of every {@link #list} cause (never kept in the view: a list is looked up in its own ranges). */
    private static final int LIST_CODE = 15;
    private static final String OBSERVED_LABEL = "observe:";
    private static final Cause[] BY_CODE = new Cause[32];

    static {
        BY_CODE[1] = TRAP;
        BY_CODE[2] = REPEAT;
        BY_CODE[3] = PREFIX;
        BY_CODE[4] = MANUAL;
        for (int i = 0; i < SENSORS.length; i++) {
            BY_CODE[SENSOR_BASE + i] = new Cause(Kind.PROTOCOL, SENSORS[i], SENSOR_BASE + i);
        }
        for (int i = 1; i < OBSERVED; i++) {
            if (BY_CODE[i] != null) {
                BY_CODE[i | OBSERVED] = new Cause(BY_CODE[i].kind, BY_CODE[i].sensor, i | OBSERVED);
            }
        }
    }

    private final Kind kind;
    private final String sensor;
    private final int code;

    private Cause(Kind kind, String sensor, int code) {
        this.kind = kind;
        this.sensor = sensor;
        this.code = code;
    }

    /** This cause in observe mode: recorded and reported, acted on nowhere. */
    public Cause observed() {
        if (kind == Kind.LIST) {
            return isObserved() ? this : new Cause(kind, sensor, code | OBSERVED);
        }
        return BY_CODE[code | OBSERVED];
    }

    /**
     * The cause of a client on a loaded list ({@code lists} in spamtrap.properties): class {@code list}, label
     * {@code list:<name>}. Someone else's list: refused or tarpitted at SMTP only, never sent to the firewall agent, never
     * exported, never stored.
     */
    public static Cause list(String name) {
        return new Cause(Kind.LIST, java.util.Objects.requireNonNull(name), LIST_CODE);
    }

    /** Whether the client is on a loaded list ({@link #list(String)}). */
    public boolean isList() {
        return kind == Kind.LIST;
    }

    /** The list's name for a list cause, else null. */
    public String listName() {
        return kind == Kind.LIST ? sensor : null;
    }

    /** Whether this listing is only observed ("would have refused"). */
    public boolean isObserved() {
        return (code & OBSERVED) != 0;
    }

    /**
     * Which listing wins across classes while both are active: a trap-class listing (2) over a protocol-class one (1)
     * over an observed one (0); within one rank the later end wins.
     */
    public int rank() {
        return isObserved() ? 0 : isProtocol() || isList() ? 1 : 2;
    }

    /** Whether this listing is weak (protocol class or observed): a trap hit during it starts a trap listing. */
    public boolean isWeak() {
        return rank() < 2;
    }

    /** The cause of a protocol sensor's listing. */
    public static Cause protocol(String sensor) {
        for (int i = 0; i < SENSORS.length; i++) {
            if (SENSORS[i].equals(sensor)) {
                return BY_CODE[SENSOR_BASE + i];
            }
        }
        throw new IllegalArgumentException("unknown protocol sensor '" + sensor + "' (known: " + String.join(", ", SENSORS) + ")");
    }

    /** The cause with this code; {@link #TRAP} for 0 (a listing whose cause is not known: this node's own unconfirmed hit). */
    public static Cause ofCode(int code) {
        Cause c = code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        return c == null ? TRAP : c;
    }

    /**
     * The cause of a stored listing, from its {@code reason} column ({@code trap}, {@code manual},
     * {@code prefix-escalation}, {@code protocol:<sensor>}, null for older rows) and its offence count (a trap
     * listing of a second offence or later is a repeat offence).
     */
    public static Cause fromStored(String reason, int offences) {
        if (reason != null && reason.startsWith(OBSERVED_LABEL)) {
            return fromStored(reason.substring(OBSERVED_LABEL.length()), offences).observed();
        }
        if (reason == null || reason.equals("trap")) {
            return offences > 1 ? REPEAT : TRAP;
        }
        switch (reason) {
            case "manual":
                return MANUAL;
            case "prefix-escalation":
                return PREFIX;
            case "repeat":
                return REPEAT;
            default:
                if (reason.startsWith("protocol:")) {
                    try {
                        return protocol(reason.substring("protocol:".length()));
                    } catch (IllegalArgumentException e) {
                        return TRAP;
                    }
                }
                return TRAP;
        }
    }

    /** This cause as written in the store's {@code reason} column and the change feed: {@code trap}, ..., {@code protocol:pregreet}. */
    public String label() {
        String base = sensor == null ? kind.label() : kind.label() + ":" + sensor;
        return isObserved() ? OBSERVED_LABEL + base : base;
    }

    /** Parses {@link #label()}; null for an unknown label. */
    public static Cause ofLabel(String label) {
        if (label == null) {
            return null;
        }
        for (Cause c : BY_CODE) {
            if (c != null && c.label().equals(label)) {
                return c;
            }
        }
        return null;
    }

    public Kind kind() {
        return kind;
    }

    /** The sensor's name for a protocol listing, else null. */
    public String sensor() {
        return kind == Kind.LIST ? null : sensor;
    }

    public Confidence confidence() {
        return kind == Kind.PROTOCOL ? Confidence.PROTOCOL : kind == Kind.LIST ? Confidence.LIST : Confidence.TRAP;
    }

    public boolean isProtocol() {
        return kind == Kind.PROTOCOL;
    }

    /** 1-31, stable: kept in the view's packed tables (observed: 16 added). */
    public int code() {
        return code;
    }

    /**
     * The refusal's {@code %R} for a client whose own key is listed for this cause (a listed prefix around it says
     * {@link #PREFIX_AROUND}). Never names a trap address.
     */
    public String refusalReason() {
        switch (kind) {
            case TRAP:
                return "has sent mail to a spamtrap on this server";
            case REPEAT:
                return "has sent mail to a spamtrap on this server again";
            case PREFIX:
                return "is in a network range listed by this server";
            case MANUAL:
                return "is listed by this server's administrator";
            case LIST:
                return "is on the " + sensor + " list";
            default:
                return "has broken the SMTP protocol on this server";
        }
    }

    /** The refusal's {@code %R} for a client inside a listed prefix (an escalation or an administrator's range). */
    public static final String PREFIX_AROUND = "is in a network range listed by this server";

    @Override
    public boolean equals(Object o) {
        return o instanceof Cause && ((Cause) o).code == code && (kind != Kind.LIST || sensor.equals(((Cause) o).sensor));
    }

    @Override
    public int hashCode() {
        return kind == Kind.LIST ? Objects.hash(code, sensor) : Objects.hash(code);
    }

    @Override
    public String toString() {
        return label();
    }
}
