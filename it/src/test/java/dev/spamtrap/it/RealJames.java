package dev.spamtrap.it;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A real James 3.8.1 with the extension for one test class: a forked JVM under {@code it/target/james-NAME}, random
 * ports, the shared Cassandra with a keyspace of its own ({@code it_NAME}, emptied first), and the shipped sample
 * configuration ({@code conf/james}) unless the test says otherwise. Started before the class's {@code @BeforeAll}
 * methods, stopped after its last test:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RealJames james = RealJames.named("prefix")
 *     .with(j -> j.refusingAtConnect().spamtrapProperty("prefix.escalation.addresses", "3"));
 * }</pre>
 */
public final class RealJames implements BeforeAllCallback, AfterAllCallback {
    private final String name;
    private final UnaryOperator<JamesProcess> configuration;
    private JamesProcess process;

    private RealJames(String name, UnaryOperator<JamesProcess> configuration) {
        this.name = name;
        this.configuration = configuration;
    }

    /** The shipped configuration; {@code name} names the folder and the keyspace. */
    public static RealJames named(String name) {
        return new RealJames(name, j -> j);
    }

    /** The same James with one more change to its configuration (see {@link JamesProcess}'s switches and edits). */
    public RealJames with(UnaryOperator<JamesProcess> change) {
        UnaryOperator<JamesProcess> before = configuration;
        return new RealJames(name, j -> change.apply(before.apply(j)));
    }

    public String keyspace() {
        return "it_" + name.replace('-', '_');
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        process = configuration.apply(JamesFixture.james(name, keyspace())).prepare().start(JamesFixture.START);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (process != null) {
            process.close();
            process = null;
        }
    }

    /** Stops this James and starts it again on the same root, ports and keyspace. */
    public void restart() {
        process().close();
        process().start(JamesFixture.START);
    }

    public JamesProcess process() {
        if (process == null) {
            throw new IllegalStateException("James '" + name + "' is not running: register RealJames with @RegisterExtension on a static field");
        }
        return process;
    }

    public int smtpPort() {
        return process().smtpPort();
    }

    public int imapPort() {
        return process().imapPort();
    }

    public int webAdminPort() {
        return process().webAdminPort();
    }

    public WebAdmin webAdmin() {
        return new WebAdmin(webAdminPort());
    }

    public String log() {
        return process().log();
    }

    /** The offender row of a key in this James's keyspace ({@code columns} as in a SELECT), or null. */
    public Row offenderRow(String columns, String key) {
        return SharedCassandra.cql().execute("SELECT " + columns + " FROM " + keyspace() + ".offenders WHERE ip = ?", key).one();
    }

    /** Waits for the offender row of a key to satisfy {@code until}. */
    public Row awaitOffenderRow(String columns, String key, Duration within, Predicate<Row> until) {
        return Await.until(within, "offender row for " + key, () -> offenderRow(columns, key), r -> r != null && until.test(r));
    }
}
